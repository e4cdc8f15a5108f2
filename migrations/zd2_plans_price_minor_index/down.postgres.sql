DROP INDEX CONCURRENTLY ix_plans_price_minor;
