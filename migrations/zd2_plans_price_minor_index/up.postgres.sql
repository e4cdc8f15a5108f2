-- CONCURRENTLY: writes to plans go on while the index is built. If this is interrupted, drop
-- the INVALID index it leaves behind before running it again.
-- braid:allow B503 IF NOT EXISTS would keep the INVALID index an interrupted build leaves behind; a run stopped here says so instead
CREATE INDEX CONCURRENTLY ix_plans_price_minor ON plans (price_minor);
