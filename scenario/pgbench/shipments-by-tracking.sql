-- shipments-by-tracking: a customer-service lookup of a parcel, filtered on
-- shipments.tracking_number. Run with -D orders=N, the number of seeded orders. Seeding gives
-- the shipment of order i the tracking number 'ZX' followed by (i * 2654435761) mod 10^10 in
-- ten digits, so a uniformly drawn order yields a real number unless the order has no shipment.
\set order_id random(1, :orders)
\set digits (:order_id * 2654435761) % 10000000000
SELECT id, order_id, carrier, shipped_at, delivered_at FROM public.shipments WHERE tracking_number = 'ZX' || lpad(:digits::text, 10, '0');
