-- Back to the schema zd3 left, exactly: price_cents INTEGER NOT NULL, without a default,
-- before price_minor.
ALTER TABLE plans ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0 AFTER name, ALGORITHM=INSTANT;
UPDATE plans SET price_cents = price_minor;
ALTER TABLE plans ALTER COLUMN price_cents DROP DEFAULT, ALGORITHM=INSTANT;
CREATE TRIGGER plans_price_minor_insert BEFORE INSERT ON plans FOR EACH ROW
    SET NEW.price_minor = IF(NEW.price_minor = 0, NEW.price_cents, NEW.price_minor);
CREATE TRIGGER plans_price_minor_update BEFORE UPDATE ON plans FOR EACH ROW
    SET NEW.price_minor = IF(
        NEW.price_cents <> OLD.price_cents AND NEW.price_minor = OLD.price_minor,
        NEW.price_cents,
        NEW.price_minor
    );
