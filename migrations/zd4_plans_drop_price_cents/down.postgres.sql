-- Back to the schema zd3 left, exactly: price_cents INTEGER NOT NULL before price_minor.
-- Postgres adds a column only at the end, so price_minor is moved behind it: renamed, added
-- again, filled, and the old one dropped (with its index, built again below).
SET LOCAL lock_timeout = '5s';
ALTER TABLE plans ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans RENAME COLUMN price_minor TO price_minor_moved;
ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;
UPDATE plans SET price_cents = price_minor_moved, price_minor = price_minor_moved;
ALTER TABLE plans ALTER COLUMN price_cents DROP DEFAULT;
ALTER TABLE plans DROP COLUMN price_minor_moved;
CREATE INDEX ix_plans_price_minor ON plans (price_minor);

CREATE FUNCTION plans_price_minor_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.price_minor = 0 THEN
            NEW.price_minor := NEW.price_cents;
        END IF;
    ELSIF NEW.price_cents <> OLD.price_cents AND NEW.price_minor = OLD.price_minor THEN
        NEW.price_minor := NEW.price_cents;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER plans_price_minor_sync BEFORE INSERT OR UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_price_minor_sync();
