-- households.facts: the members' facts that benefits are decided on
-- (relation, birth date, sex, divisions, income, disability, death),
-- encoded per household by registry.EncodeFacts, so a whole-city run reads
-- one row per household instead of eleven columns per person. It is a
-- cache of persons: a change to or removal of a member sets it to NULL
-- (the triggers below), as does a new member (registry's insertPerson; the
-- bulk loader writes the facts of the households it creates), and the
-- next proactive run writes it again.
-- The triggers always write the household row (no "facts IS NOT NULL"), so
-- a change waits for a run that holds the row lock while it rewrites the
-- facts, and clears them after.
ALTER TABLE households ADD COLUMN facts BYTEA;

CREATE FUNCTION persons_facts_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE households SET facts = NULL WHERE id IN (SELECT household_id FROM old_rows);
    ELSE
        UPDATE households SET facts = NULL
        WHERE id IN (SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER persons_facts_upd AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persons_facts_stale();
CREATE TRIGGER persons_facts_del AFTER DELETE ON persons
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persons_facts_stale();

-- The run reads each batch's entitlements by household: from the index
-- alone (an index-only scan, once VACUUM has marked the pages visible).
DROP INDEX entitlements_household;
CREATE INDEX entitlements_household ON entitlements (household_id) INCLUDE (id, program, person_id, status, monthly_fen, proactive);
