SET LOCAL lock_timeout = '5s';
DROP TRIGGER plans_price_minor_sync ON plans;
DROP FUNCTION plans_price_minor_sync();
ALTER TABLE plans DROP COLUMN price_minor;
