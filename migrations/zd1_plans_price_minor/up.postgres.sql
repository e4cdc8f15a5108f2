-- Wait at most 5 s for the lock: a long query on plans must not queue every write behind this
-- ALTER. Adding a column with a constant default changes only the catalogue (no rewrite).
SET LOCAL lock_timeout = '5s';
ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;

-- The release still running writes only price_cents: copy it into price_minor on insert (when
-- price_minor was left at its default) and on update (when price_cents changed and
-- price_minor did not). The release that writes both columns passes through unchanged.
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
