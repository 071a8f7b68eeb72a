//! Statements that generate the shop's rows inside the server.
//!
//! Order dates span the three years up to today and thin out towards the past, like a shop that
//! grows. Prices are log-normal (median about 11 EUR, a long tail past 1,000 EUR), customers and
//! products are skewed towards low ids, and an order's status depends on its age. The formulas
//! for the customer skew and the tracking number must match `crate::scale`.

/// Settings for the loading session. Losing the last commits in a crash is harmless because an
/// unfinished seed is reloaded from scratch.
pub const SESSION_SETTINGS: &str = "
    SET synchronous_commit = off;
    SET work_mem = '256MB';
    SET maintenance_work_mem = '512MB';
";

pub const TRUNCATE: &str = "
    TRUNCATE public.shipments, public.order_items, public.orders, public.products,
        public.customers RESTART IDENTITY
";

/// Parameters: `$1` number of customers.
pub const CUSTOMERS: &str = "
    INSERT INTO public.customers (id, email, full_name, country, created_at)
    SELECT g,
           'customer' || g || '@example.com',
           (ARRAY['Ana', 'Ben', 'Chloe', 'Daan', 'Emma', 'Finn', 'Greta', 'Hugo', 'Ines',
                  'Jonas', 'Lea', 'Milan', 'Noor', 'Omar', 'Pia', 'Ruben', 'Sara', 'Tim',
                  'Yara', 'Zoe'])[1 + floor(random() * 20)::int]
             || ' ' ||
           (ARRAY['Bakker', 'Dubois', 'Fischer', 'Garcia', 'Jansen', 'Kowalski', 'Martin',
                  'Meyer', 'Novak', 'Peeters', 'Rossi', 'Schmidt', 'Smith', 'Visser',
                  'Weber'])[1 + floor(random() * 15)::int],
           (ARRAY['NL', 'NL', 'NL', 'NL', 'DE', 'DE', 'DE', 'BE', 'BE', 'FR', 'FR', 'GB', 'ES',
                  'IT', 'PL', 'US'])[1 + floor(random() * 16)::int],
           date_trunc('day', now()) - interval '4 years' + random() * interval '1000 days'
    FROM generate_series(1, $1::bigint) AS g
";

/// Parameters: `$1` number of products.
pub const PRODUCTS: &str = "
    INSERT INTO public.products (id, sku, name, category, price_cents)
    SELECT g,
           'SKU-' || lpad(g::text, 6, '0'),
           initcap(c.category) || ' item ' || g,
           c.category,
           least(500000, greatest(99, round(
               exp(7.0 + 1.1 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
           )))::int
    FROM generate_series(1, $1::bigint) AS g
    CROSS JOIN LATERAL (
        SELECT (ARRAY['books', 'garden', 'kitchen', 'toys', 'sports', 'electronics', 'fashion',
                      'beauty'])[1 + g % 8] AS category
    ) AS c
";

/// Inserts orders `$1..=$2` with their items and shipments in one statement, so that each order
/// total is the sum of its items. Parameters: `$3` customers, `$4` products, `$5` total orders.
pub const ORDERS_BATCH: &str = "
    WITH new_orders AS MATERIALIZED (
        SELECT g AS id,
               1 + floor($3::bigint * power(random(), 2))::bigint AS customer_id,
               1095 * (1 - sqrt(g::float8 / $5::bigint::float8)) AS age_days,
               random() AS status_draw,
               1 + floor(power(random(), 2) * 4)::int AS item_count
        FROM generate_series($1::bigint, $2::bigint) AS g
    ),
    lines AS MATERIALIZED (
        SELECT o.id AS order_id,
               1 + floor($4::bigint * power(random(), 1.5))::bigint AS product_id,
               CASE WHEN random() < 0.8 THEN 1 ELSE 2 + floor(random() * 3)::int END AS quantity
        FROM new_orders AS o
        CROSS JOIN LATERAL generate_series(1, o.item_count) AS n
    ),
    items AS (
        INSERT INTO public.order_items (order_id, product_id, quantity, unit_price_cents)
        SELECT l.order_id, l.product_id, l.quantity, p.price_cents
        FROM lines AS l
        JOIN public.products AS p ON p.id = l.product_id
        RETURNING order_id, quantity::bigint * unit_price_cents AS line_cents
    ),
    placed AS (
        INSERT INTO public.orders (id, customer_id, status, created_at, total_cents)
        SELECT o.id,
               o.customer_id,
               CASE
                   WHEN o.age_days < 2 AND o.status_draw < 0.4 THEN 'pending'
                   WHEN o.age_days < 2 THEN 'processing'
                   WHEN o.age_days < 7 AND o.status_draw < 0.15 THEN 'processing'
                   WHEN o.age_days < 7 THEN 'shipped'
                   WHEN o.status_draw < 0.07 THEN 'cancelled'
                   WHEN o.status_draw < 0.11 THEN 'refunded'
                   ELSE 'delivered'
               END,
               date_trunc('day', now()) - o.age_days * interval '1 day'
                   - random() * interval '6 hours',
               t.total_cents
        FROM new_orders AS o
        JOIN (SELECT order_id, sum(line_cents) AS total_cents FROM items GROUP BY order_id) AS t
            ON t.order_id = o.id
        RETURNING id, status, created_at
    )
    INSERT INTO public.shipments (order_id, carrier, tracking_number, shipped_at, delivered_at)
    SELECT p.id,
           (ARRAY['DHL', 'DHL', 'DHL', 'PostNL', 'PostNL', 'UPS', 'DPD', 'GLS'])
               [1 + floor(random() * 8)::int],
           'ZX' || lpad(((p.id * 2654435761) % 10000000000)::text, 10, '0'),
           least(now(), p.created_at + (0.5 + random() * 1.5) * interval '1 day'),
           CASE WHEN p.status IN ('delivered', 'refunded')
                THEN p.created_at + (2 + random() * 4) * interval '1 day'
           END
    FROM placed AS p
    WHERE p.status IN ('shipped', 'delivered', 'refunded')
";

/// Moves the identity sequences past the explicit ids that loading inserted, so that the
/// application's own inserts do not collide with them.
pub const RESET_SEQUENCES: &str = "
    SELECT setval(pg_get_serial_sequence('public.customers', 'id'), max(id)) FROM public.customers;
    SELECT setval(pg_get_serial_sequence('public.products', 'id'), max(id)) FROM public.products;
    SELECT setval(pg_get_serial_sequence('public.orders', 'id'), max(id)) FROM public.orders;
";

/// Sets hint bits and the visibility map once, and gathers statistics, so that neither the
/// first queries nor autovacuum pay for it while the CPU is measured.
pub const VACUUM_ANALYZE: &str = "
    VACUUM (ANALYZE) public.customers, public.products, public.orders, public.order_items,
        public.shipments
";
