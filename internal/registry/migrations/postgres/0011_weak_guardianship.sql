-- 弱监护: an elder whose guardianship is weak (no one of working age living
-- nearby to look after them), set by the generator, a clerk or an adviser;
-- extreme-weather sweeps visit them as they visit elders living alone.
-- A constant default: adding the column rewrites no row and rebuilds no index.
ALTER TABLE persons ADD COLUMN weak_guardianship INTEGER NOT NULL DEFAULT 0;
