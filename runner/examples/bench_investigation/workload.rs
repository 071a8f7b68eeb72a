//! The benchmark's statements: five shapes over the thousand tables, each statement run at least
//! once and the hot ones many times, from a few concurrent sessions.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use contracts::action::quote_identifier;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls};

use crate::schema;

/// Distinct statements. With `pg_stat_statements.max = 5000` this leaves room for the entries
/// of the engine and of the server's other databases, so that none is evicted.
pub const STATEMENTS: usize = 4_800;
/// Calls of each hot statement in the window.
pub const HOT_CALLS: usize = 30;
const SESSIONS: usize = 4;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Bind values of one execution.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Equality,
    Range,
    OrderByLimit,
    Join,
    Update,
}

const SHAPES: [Shape; 5] = [
    Shape::Equality,
    Shape::Range,
    Shape::OrderByLimit,
    Shape::Join,
    Shape::Update,
];

/// One distinct statement of the workload. The text has bind parameters and no constants, so
/// `pg_stat_statements` stores it unchanged.
#[derive(Debug, Clone)]
pub struct Statement {
    table: usize,
    shape: Shape,
    pub sql: String,
}

impl Statement {
    /// Returns whether the statement scans a large table by a column without an index, which
    /// is what the workload runs many times.
    pub fn is_hot(&self) -> bool {
        schema::is_large(self.table) && matches!(self.shape, Shape::Equality | Shape::Update)
    }
}

/// Returns statement `i` of the workload: table `i % TABLES` in shape `i / TABLES`, so that
/// every table gets the first shapes before any gets the last.
pub fn statement(i: usize) -> Statement {
    let table = i % schema::TABLES;
    let shape = SHAPES[i / schema::TABLES % SHAPES.len()];
    let name = quote_identifier(&schema::name(table));
    let sql = match shape {
        Shape::Equality => format!("SELECT id, status, amount FROM {name} WHERE account_id = $1"),
        Shape::Range => format!(
            "SELECT count(*), sum(amount) FROM {name} WHERE created_at >= $1 AND created_at < $2"
        ),
        Shape::OrderByLimit => format!(
            "SELECT id, amount FROM {name} WHERE status = $1 ORDER BY created_at DESC LIMIT $2"
        ),
        Shape::Join => {
            let next = quote_identifier(&schema::name((table + 1) % schema::TABLES));
            format!(
                "SELECT a.id, b.amount FROM {name} a JOIN {next} b ON b.account_id = a.account_id \
                 WHERE a.id = $1"
            )
        }
        Shape::Update => format!("UPDATE {name} SET note = $1 WHERE account_id = $2"),
    };
    Statement { table, shape, sql }
}

fn params(statement: &Statement, rng: &mut StdRng) -> Params {
    let account: i32 = rng.random_range(0..=schema::accounts(statement.table) as i32);
    match statement.shape {
        Shape::Equality => vec![Box::new(account)],
        Shape::Range => {
            let end = Utc::now() - TimeDelta::hours(rng.random_range(0..24 * 60));
            vec![Box::new(end - TimeDelta::days(1)), Box::new(end)]
        }
        Shape::OrderByLimit => vec![Box::new(rng.random_range(0..5_i16)), Box::new(20_i64)],
        Shape::Join => vec![Box::new(
            rng.random_range(1..=schema::rows(statement.table)),
        )],
        Shape::Update => vec![Box::new(format!("checked {account}")), Box::new(account)],
    }
}

/// Calls made by one run of the workload.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub hot_statements: usize,
    pub calls: usize,
}

/// Runs every statement once and each hot one `HOT_CALLS` times in all, in a shuffled order
/// spread over `SESSIONS` connections.
pub async fn run(config: &Config, statements: Arc<Vec<Statement>>) -> Result<Report, Error> {
    let mut calls: Vec<usize> = (0..statements.len()).collect();
    let hot: Vec<usize> = calls
        .iter()
        .copied()
        .filter(|&i| statements[i].is_hot())
        .collect();
    for _ in 1..HOT_CALLS {
        calls.extend(&hot);
    }
    calls.shuffle(&mut StdRng::seed_from_u64(42));

    let mut sessions = tokio::task::JoinSet::new();
    for session in 0..SESSIONS {
        let share: Vec<usize> = calls
            .iter()
            .copied()
            .skip(session)
            .step_by(SESSIONS)
            .collect();
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(connection);
        let statements = statements.clone();
        sessions.spawn(async move { run_session(&client, &statements, &share, session).await });
    }
    while let Some(finished) = sessions.join_next().await {
        finished.map_err(|error| Error::from(error.to_string()))??;
    }
    Ok(Report {
        hot_statements: hot.len(),
        calls: calls.len(),
    })
}

async fn run_session(
    client: &Client,
    statements: &[Statement],
    share: &[usize],
    seed: usize,
) -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(seed as u64);
    for &i in share {
        let values = params(&statements[i], &mut rng);
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|value| value.as_ref() as &(dyn ToSql + Sync))
            .collect();
        client.execute(statements[i].sql.as_str(), &refs).await?;
    }
    // A session's table counters reach pg_stat_user_tables only when it flushes them, which
    // an idle session does after this request.
    client
        .batch_execute("SELECT pg_stat_force_next_flush()")
        .await?;
    Ok(())
}
