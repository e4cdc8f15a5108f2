-- Deliberately nothing: the values go with the column, which zd1_plans_price_minor's
-- downgrade drops.
SELECT 1;
