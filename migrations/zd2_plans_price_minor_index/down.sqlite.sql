DROP INDEX ix_plans_price_minor;
