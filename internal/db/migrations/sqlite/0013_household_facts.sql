-- households.facts: the members' facts that benefits are decided on
-- (relation, birth date, sex, divisions, income, disability, death),
-- encoded per household by registry.EncodeFacts, so a whole-city run reads
-- one row per household instead of eleven columns per person. It is a
-- cache of persons: any change to a person of the household sets it to
-- NULL (the triggers below), and the next proactive run writes it again.
ALTER TABLE households ADD COLUMN facts BLOB;

CREATE TRIGGER persons_facts_ins AFTER INSERT ON persons BEGIN
    UPDATE households SET facts = NULL WHERE id = NEW.household_id AND facts IS NOT NULL;
END;
CREATE TRIGGER persons_facts_upd AFTER UPDATE ON persons BEGIN
    UPDATE households SET facts = NULL WHERE id IN (OLD.household_id, NEW.household_id) AND facts IS NOT NULL;
END;
CREATE TRIGGER persons_facts_del AFTER DELETE ON persons BEGIN
    UPDATE households SET facts = NULL WHERE id = OLD.household_id AND facts IS NOT NULL;
END;
