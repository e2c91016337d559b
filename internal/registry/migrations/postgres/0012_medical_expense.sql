-- The average monthly self-paid medical spending (yuan) over the last three
-- months of 医保 bills, refreshed for the persons a medical feed touches; the
-- policy case reads it (刚性支出). A constant default: no row is rewritten.
ALTER TABLE persons ADD COLUMN monthly_medical_expense DOUBLE PRECISION NOT NULL DEFAULT 0;
