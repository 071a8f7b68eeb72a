-- orders-by-customer: one customer's order history, filtered on orders.customer_id.
-- Run with -D customers=N, the number of seeded customers. The customer is drawn with the
-- skew that seeding uses, 1 + floor(customers * u^2) for u uniform in [0, 1), so customers
-- who order often are also looked up often.
\set u random(0, 999999999)
\set customer_id 1 + int(:customers * pow(:u / 1000000000.0, 2))
SELECT id, status, created_at, total_cents FROM public.orders WHERE customer_id = :customer_id;
