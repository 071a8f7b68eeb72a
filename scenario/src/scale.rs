//! Data sizes and the distributions that seeding and the workloads share.
//!
//! The workloads draw their parameters with the same formulas that generated the data, so hot
//! customers are looked up more often, as in a real shop. The seeding SQL repeats these formulas
//! and a test compares the two.

use crate::{Error, Result};

/// Number of orders seeded unless the caller chooses another scale.
pub const DEFAULT_ORDERS: u64 = 2_000_000;

/// Minimum number of orders a scale accepts, so that every table gets some rows.
pub const MIN_ORDERS: u64 = 100;

/// Exponent of the customer skew: order `i` belongs to customer `1 + floor(customers * u^2)`
/// with `u` uniform in [0, 1), so low ids order much more often. With 200,000 customers the top
/// 1 % place 10 % of the orders and customer 1 places about 0.2 %.
pub const CUSTOMER_SKEW: f64 = 2.0;

/// Multiplier that turns an order id into its tracking number. It is odd and not a multiple of
/// 5, so it is coprime with 10^10 and distinct orders below 10^10 get distinct numbers.
const TRACKING_MULTIPLIER: u64 = 2_654_435_761;
const TRACKING_MODULUS: u64 = 10_000_000_000;

/// The size of the seeded shop, set by its number of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    orders: u64,
}

impl Scale {
    /// Creates the scale of `orders` orders, which must be at least [`MIN_ORDERS`].
    pub fn new(orders: u64) -> Result<Scale> {
        if orders < MIN_ORDERS {
            return Err(Error::InvalidSetting {
                name: "orders",
                value: orders.to_string(),
                reason: "a scale needs at least 100 orders",
            });
        }
        Ok(Scale { orders })
    }

    pub fn orders(self) -> u64 {
        self.orders
    }

    /// Returns the number of customers, one per ten orders.
    pub fn customers(self) -> u64 {
        self.orders / 10
    }

    /// Returns the number of products, one per 200 orders, between 100 and 10,000.
    pub fn products(self) -> u64 {
        (self.orders / 200).clamp(100, 10_000)
    }
}

impl Default for Scale {
    fn default() -> Scale {
        Scale {
            orders: DEFAULT_ORDERS,
        }
    }
}

/// Maps a uniform draw `u` in [0, 1) to a customer id in 1..=customers with the seeding skew.
pub fn skewed_customer(u: f64, customers: u64) -> u64 {
    let offset = (customers as f64 * u.powf(CUSTOMER_SKEW)).floor() as u64;
    1 + offset.min(customers.saturating_sub(1))
}

/// Returns the tracking number of an order's shipment, as seeding writes it.
pub fn tracking_number(order_id: u64) -> String {
    let digits = order_id.wrapping_mul(TRACKING_MULTIPLIER) % TRACKING_MODULUS;
    format!("ZX{digits:010}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_rejects_tiny_sizes() {
        assert!(Scale::new(MIN_ORDERS - 1).is_err());
        assert!(Scale::new(MIN_ORDERS).is_ok());
    }

    #[test]
    fn scale_derives_table_sizes() {
        let scale = Scale::default();
        assert_eq!(scale.customers(), 200_000);
        assert_eq!(scale.products(), 10_000);
        assert_eq!(Scale::new(100).unwrap().products(), 100);
    }

    #[test]
    fn skewed_customer_stays_in_range() {
        assert_eq!(skewed_customer(0.0, 1000), 1);
        assert_eq!(skewed_customer(0.999_999_999, 1000), 1000);
        assert_eq!(skewed_customer(0.5, 1000), 251);
    }

    #[test]
    fn tracking_numbers_are_fixed_width() {
        assert_eq!(tracking_number(1), "ZX2654435761");
        assert_eq!(tracking_number(4), "ZX0617743044");
        assert_ne!(tracking_number(2), tracking_number(3));
    }
}
