//! The row in `scenario.seed` that records what was loaded and whether loading finished.

use tokio_postgres::Client;

use crate::db::Target;
use crate::{Error, Result, Scale};

/// Seeding state of a database, read from its seeding record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeedState {
    /// No metadata table: the scenario never created its tables here.
    Empty,
    /// Loading started but did not finish, so the tables hold partial data.
    Unfinished,
    /// Loading finished at this scale.
    Finished(Scale),
}

/// Reads the record, or [`SeedState::Empty`] when the metadata table does not exist yet.
pub(crate) async fn read(client: &Client, target: &Target) -> Result<SeedState> {
    let table = client
        .query_one("SELECT to_regclass('scenario.seed') IS NOT NULL", &[])
        .await
        .map_err(target.sql_error("look up table scenario.seed"))?;
    if !table.get::<_, bool>(0) {
        return Ok(SeedState::Empty);
    }

    let row = client
        .query_opt(
            "SELECT orders, finished_at IS NOT NULL FROM scenario.seed",
            &[],
        )
        .await
        .map_err(target.sql_error("read table scenario.seed"))?;
    // The metadata table is created in one transaction with the shop tables, so an empty one
    // means loading stopped before its first step.
    let Some(row) = row else {
        return Ok(SeedState::Unfinished);
    };
    if !row.get::<_, bool>(1) {
        return Ok(SeedState::Unfinished);
    }
    let orders: i64 = row.get(0);
    Ok(SeedState::Finished(Scale::new(orders as u64)?))
}

/// Records that loading at `scale` has started, replacing any earlier record.
pub(crate) async fn start(client: &Client, target: &Target, scale: Scale) -> Result<()> {
    client
        .execute(
            "INSERT INTO scenario.seed (orders, customers, products) VALUES ($1, $2, $3)
             ON CONFLICT (singleton) DO UPDATE
             SET orders = excluded.orders, customers = excluded.customers,
                 products = excluded.products, started_at = now(), finished_at = NULL",
            &[
                &(scale.orders() as i64),
                &(scale.customers() as i64),
                &(scale.products() as i64),
            ],
        )
        .await
        .map_err(target.sql_error("write table scenario.seed"))?;
    Ok(())
}

/// Marks loading as finished. Until this runs, the next seed reloads everything.
pub(crate) async fn finish(client: &Client, target: &Target) -> Result<()> {
    client
        .execute("UPDATE scenario.seed SET finished_at = now()", &[])
        .await
        .map_err(target.sql_error("write table scenario.seed"))?;
    Ok(())
}

/// Fails when a shop table exists although the scenario never recorded a seed, because then the
/// tables belong to someone else and reloading would truncate their data.
pub(crate) async fn check_tables_are_ours(client: &Client, target: &Target) -> Result<()> {
    for table in crate::schema::TABLES {
        let row = client
            .query_one(
                "SELECT to_regclass(format('public.%I', $1::text)) IS NOT NULL",
                &[&table],
            )
            .await
            .map_err(target.sql_error("look up the shop tables"))?;
        if row.get::<_, bool>(0) {
            return Err(Error::ForeignTable {
                target: target.name.clone(),
                table: format!("public.{table}"),
            });
        }
    }
    Ok(())
}
