SET LOCAL lock_timeout = '5s';
DROP TRIGGER plans_price_minor_sync ON plans;
DROP FUNCTION plans_price_minor_sync();
-- Catalogue only: the values stay on disk until rows are next rewritten.
ALTER TABLE plans DROP COLUMN price_cents;
