-- Each person's average monthly self-paid medical spending (yuan) over the
-- last three months of 医保 bills, as of the import that last refreshed it;
-- the policy case reads it (刚性支出). It moves out of persons (0012) into
-- a narrow table of its own, keyed in household order like the run reads:
-- a feed of a million bills then writes a million short rows, not a
-- million persons rows (and their households' facts) across the register.
-- Persons without a row spend 0.
CREATE TABLE person_medical (
    household_id INTEGER NOT NULL,
    person_id    INTEGER NOT NULL,
    monthly      REAL NOT NULL,
    as_of        TEXT NOT NULL,   -- YYYY-MM-DD, the import date
    PRIMARY KEY (household_id, person_id)
) WITHOUT ROWID;

INSERT INTO person_medical (household_id, person_id, monthly, as_of)
    SELECT household_id, id, monthly_medical_expense, substr(updated_at, 1, 10) FROM persons WHERE monthly_medical_expense <> 0;

ALTER TABLE persons DROP COLUMN monthly_medical_expense;

-- A person who moves to another household keeps their figure.
CREATE TRIGGER persons_medical_move AFTER UPDATE OF household_id ON persons WHEN OLD.household_id <> NEW.household_id BEGIN
    UPDATE person_medical SET household_id = NEW.household_id WHERE household_id = OLD.household_id AND person_id = NEW.id;
END;
