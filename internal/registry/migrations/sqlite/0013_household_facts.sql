-- households.facts: the members' facts that benefits are decided on
-- (relation, birth date, sex, divisions, income, disability, death),
-- encoded per household by registry.EncodeFacts, so a whole-city run reads
-- one row per household instead of eleven columns per person. It is a
-- cache of persons: a change to or removal of a member sets it to NULL
-- (the triggers below), as does a new member (registry's insertPerson; the
-- bulk loader writes the facts of the households it creates), and the
-- next proactive run writes it again.
ALTER TABLE households ADD COLUMN facts BLOB;

CREATE TRIGGER persons_facts_upd AFTER UPDATE ON persons BEGIN
    UPDATE households SET facts = NULL WHERE id IN (OLD.household_id, NEW.household_id) AND facts IS NOT NULL;
END;
CREATE TRIGGER persons_facts_del AFTER DELETE ON persons BEGIN
    UPDATE households SET facts = NULL WHERE id = OLD.household_id AND facts IS NOT NULL;
END;

-- The run reads each batch's entitlements by household: from the index
-- alone (it holds every column the run reads; the rowid is the id).
DROP INDEX entitlements_household;
CREATE INDEX entitlements_household ON entitlements (household_id, program, person_id, status, monthly_fen, proactive);
