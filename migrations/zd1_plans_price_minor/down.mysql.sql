DROP TRIGGER IF EXISTS plans_price_minor_update;
DROP TRIGGER IF EXISTS plans_price_minor_insert;
ALTER TABLE plans DROP COLUMN price_minor, ALGORITHM=INSTANT;
