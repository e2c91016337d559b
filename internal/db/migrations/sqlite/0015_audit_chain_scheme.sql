-- Each audit entry records the scheme that chained it: 'sha256' (unkeyed,
-- every entry written before this migration) or a keyed MAC such as
-- 'hmac-sha256', which new entries use. Old entries keep verifying under
-- their own scheme.
ALTER TABLE audit_log ADD COLUMN scheme TEXT NOT NULL DEFAULT 'sha256';
