//! The loading steps, from empty tables to analyzed data with constraints and indexes.

use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::time::Instant;

use tokio_postgres::Client;

use super::progress::Progress;
use super::{SeedOptions, record, sql};
use crate::db::Target;
use crate::{Result, Scale, schema};

/// Orders generated per statement. Each batch is one transaction and one progress step.
const BATCH_ORDERS: u64 = 100_000;

/// Replaces whatever the shop tables hold with freshly generated data at `options.scale`.
pub(super) async fn load(client: &Client, target: &Target, options: &SeedOptions) -> Result<()> {
    let scale = options.scale;
    schema::create_tables(client, target).await?;
    record::start(client, target, scale).await?;
    execute(
        client,
        target,
        sql::SESSION_SETTINGS,
        "configure the session",
    )
    .await?;
    schema::drop_constraints_and_indexes(client, target).await?;
    execute(client, target, sql::TRUNCATE, "empty the shop tables").await?;

    let batches = order_batches(scale.orders());
    let progress = Progress::new(options.progress, batches.len() as u64 + 4);
    load_catalog(client, target, scale, &progress).await?;

    progress.step_message("orders, items and shipments");
    let started = Instant::now();
    let queue = Mutex::new(batches.into_iter());
    let loaders =
        (0..options.connections).map(|_| load_order_batches(target, scale, &queue, &progress));
    futures::future::try_join_all(loaders).await?;
    log_step("orders, items and shipments", started);

    progress.step_message("constraints and indexes");
    let started = Instant::now();
    execute(client, target, sql::RESET_SEQUENCES, "reset sequences").await?;
    schema::add_constraints_and_indexes(client, target).await?;
    log_step("constraints and indexes", started);
    progress.advance();

    progress.step_message("vacuum and analyze");
    execute(client, target, sql::VACUUM_ANALYZE, "vacuum and analyze").await?;
    progress.advance();

    record::finish(client, target).await?;
    progress.finish();
    Ok(())
}

async fn load_catalog(
    client: &Client,
    target: &Target,
    scale: Scale,
    progress: &Progress,
) -> Result<()> {
    progress.step_message("customers");
    client
        .execute(sql::CUSTOMERS, &[&(scale.customers() as i64)])
        .await
        .map_err(target.sql_error("insert customers"))?;
    progress.advance();

    progress.step_message("products");
    client
        .execute(sql::PRODUCTS, &[&(scale.products() as i64)])
        .await
        .map_err(target.sql_error("insert products"))?;
    progress.advance();
    Ok(())
}

/// Takes batches from `queue` until it is empty and inserts each on a connection of its own,
/// so that several of these run in parallel on the server's cores.
async fn load_order_batches(
    target: &Target,
    scale: Scale,
    queue: &Mutex<std::vec::IntoIter<RangeInclusive<u64>>>,
    progress: &Progress,
) -> Result<()> {
    let client = target.connect().await?;
    execute(
        &client,
        target,
        sql::SESSION_SETTINGS,
        "configure the session",
    )
    .await?;
    let customers = scale.customers() as i64;
    let products = scale.products() as i64;
    let orders = scale.orders() as i64;
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .next();
        let Some(batch) = next else {
            return Ok(());
        };
        let (first, last) = (*batch.start() as i64, *batch.end() as i64);
        client
            .execute(
                sql::ORDERS_BATCH,
                &[&first, &last, &customers, &products, &orders],
            )
            .await
            .map_err(target.sql_error(&format!("insert orders {first} to {last}")))?;
        progress.advance();
    }
}

async fn execute(client: &Client, target: &Target, statements: &str, action: &str) -> Result<()> {
    let started = Instant::now();
    client
        .batch_execute(statements)
        .await
        .map_err(target.sql_error(action))?;
    log_step(action, started);
    Ok(())
}

fn log_step(step: &str, started: Instant) {
    tracing::debug!(
        step,
        seconds = started.elapsed().as_secs_f64(),
        "seeding step done"
    );
}

/// Splits order ids `1..=orders` into ranges of at most [`BATCH_ORDERS`].
fn order_batches(orders: u64) -> Vec<RangeInclusive<u64>> {
    (0..orders.div_ceil(BATCH_ORDERS))
        .map(|index| {
            let first = index * BATCH_ORDERS + 1;
            first..=(first + BATCH_ORDERS - 1).min(orders)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_all_orders() {
        let batches = order_batches(250_001);
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[0], 1..=100_000);
        assert_eq!(batches[2], 200_001..=250_001);
    }

    #[test]
    fn batches_of_small_scale() {
        assert_eq!(order_batches(100), vec![1..=100]);
    }
}
