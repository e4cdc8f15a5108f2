-- Built in place without blocking writes; the statement fails rather than fall back to a copy.
ALTER TABLE plans ADD INDEX ix_plans_price_minor (price_minor), ALGORITHM=INPLACE, LOCK=NONE;
