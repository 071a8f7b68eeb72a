//! The named workloads: one parameterized statement each, on a column that has no index.
//!
//! - `orders-by-customer`: a customer's order history, `orders.customer_id`.
//! - `shipments-by-tracking`: a customer-service lookup by parcel number,
//!   `shipments.tracking_number`.
//!
//! [`run`] plays one of them against any PostgreSQL holding the seeded shop.

mod backoff;
mod runner;
mod session;

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use tokio_postgres::types::ToSql;

use crate::scale::{skewed_customer, tracking_number};
use crate::{Error, Result, Scale};
pub use runner::{DEFAULT_RATE, DEFAULT_SESSIONS, MAX_SESSIONS, RunOptions, RunReport, run};

/// A named query pattern that makes the server run hot until its column is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    OrdersByCustomer,
    ShipmentsByTracking,
}

impl Workload {
    pub const ALL: [Workload; 2] = [Workload::OrdersByCustomer, Workload::ShipmentsByTracking];

    /// Returns the name used on the command line and in pgbench script file names.
    pub fn name(self) -> &'static str {
        match self {
            Workload::OrdersByCustomer => "orders-by-customer",
            Workload::ShipmentsByTracking => "shipments-by-tracking",
        }
    }

    /// Returns the statement each session prepares, with one parameter `$1`.
    pub fn statement(self) -> &'static str {
        match self {
            Workload::OrdersByCustomer => {
                "SELECT id, status, created_at, total_cents FROM public.orders \
                 WHERE customer_id = $1"
            }
            Workload::ShipmentsByTracking => {
                "SELECT id, order_id, carrier, shipped_at, delivered_at FROM public.shipments \
                 WHERE tracking_number = $1"
            }
        }
    }

    /// Returns the `(table, column)` in schema `public` that the statement filters on. Seeding
    /// leaves it without an index, and an index on it is the fix.
    pub fn filter_column(self) -> (&'static str, &'static str) {
        match self {
            Workload::OrdersByCustomer => ("orders", "customer_id"),
            Workload::ShipmentsByTracking => ("shipments", "tracking_number"),
        }
    }

    /// Draws a parameter from the seeded data's distribution: customers as skewed as their
    /// orders, and tracking numbers of uniformly chosen orders. About 5 % of orders have no
    /// shipment, so some lookups find nothing, as mistyped numbers would.
    pub(crate) fn draw_parameter(self, rng: &mut impl Rng, scale: Scale) -> Parameter {
        match self {
            Workload::OrdersByCustomer => {
                let customer = skewed_customer(rng.random::<f64>(), scale.customers());
                Parameter::Id(customer as i64)
            }
            Workload::ShipmentsByTracking => {
                let order = rng.random_range(1..=scale.orders());
                Parameter::Text(tracking_number(order))
            }
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = Error;

    fn from_str(name: &str) -> Result<Workload> {
        Workload::ALL
            .into_iter()
            .find(|workload| workload.name() == name.trim())
            .ok_or_else(|| Error::UnknownWorkload {
                name: name.to_owned(),
                valid: Workload::ALL.map(Workload::name).join(", "),
            })
    }
}

/// A statement parameter of the type its column has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parameter {
    Id(i64),
    Text(String),
}

impl Parameter {
    pub fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Parameter::Id(id) => id,
            Parameter::Text(text) => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parse_known_names() {
        for workload in Workload::ALL {
            assert_eq!(workload.name().parse::<Workload>().unwrap(), workload);
        }
    }

    #[test]
    fn parse_unknown_name_lists_valid_ones() {
        let error = "orders".parse::<Workload>().unwrap_err().to_string();
        assert!(error.contains("`orders`"), "{error}");
        assert!(error.contains("orders-by-customer"), "{error}");
        assert!(error.contains("shipments-by-tracking"), "{error}");
    }

    #[test]
    fn display_matches_name() {
        assert_eq!(
            Workload::ShipmentsByTracking.to_string(),
            "shipments-by-tracking"
        );
    }

    #[test]
    fn parameters_stay_in_data_range() {
        let scale = Scale::new(1000).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let Parameter::Id(id) = Workload::OrdersByCustomer.draw_parameter(&mut rng, scale)
            else {
                panic!("orders-by-customer takes an id");
            };
            assert!((1..=100).contains(&id), "customer {id} out of range");
        }
        let parameter = Workload::ShipmentsByTracking.draw_parameter(&mut rng, scale);
        assert!(matches!(parameter, Parameter::Text(text) if text.len() == 12));
    }
}
