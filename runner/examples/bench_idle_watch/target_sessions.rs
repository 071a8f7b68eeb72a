//! DBAgent's sessions on the target, found by `application_name` in `pg_stat_activity`.

use cluster::Cluster;
use tokio_postgres::{Client, NoTls};

use crate::Error;

/// DBAgent's sessions name themselves `dbagent` or `dbagent-...`, such as `dbagent-runner`.
const DBAGENT_SESSIONS: &str = "dbagent%";
/// This program's own session, which the pattern above leaves out.
const OWN_APPLICATION: &str = "bench-idle-watch";

/// Sessions on the target at one moment.
pub struct Sessions {
    /// Pid and `application_name` of each DBAgent session.
    pub dbagent: Vec<(u32, String)>,
    /// Sessions opened since the statistics were reset: the sum of `pg_stat_database.sessions`.
    pub opened: i64,
}

/// Connects to the target's `postgres` database under this program's own `application_name`.
pub async fn connect(target: &Cluster) -> Result<Client, Error> {
    let mut config = target.config("postgres");
    config.application_name(OWN_APPLICATION);
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Reads DBAgent's sessions and the number of sessions ever opened on the target.
pub async fn read(client: &Client) -> Result<Sessions, Error> {
    // Counters of this session reach pg_stat_database only when it flushes them, which the
    // forced flush makes happen before the next query.
    client
        .batch_execute("SELECT pg_stat_force_next_flush()")
        .await?;
    let rows = client
        .query(
            "SELECT pid, application_name FROM pg_stat_activity
             WHERE application_name LIKE $1 AND pid <> pg_backend_pid()
             ORDER BY pid",
            &[&DBAGENT_SESSIONS],
        )
        .await?;
    let dbagent = rows
        .iter()
        .map(|row| (row.get::<_, i32>(0) as u32, row.get(1)))
        .collect();
    let opened: i64 = client
        .query_one(
            "SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database",
            &[],
        )
        .await?
        .get(0);
    Ok(Sessions { dbagent, opened })
}

/// Prints DBAgent's sessions at both ends of the watch and the sessions opened in between.
pub fn print(start: &Sessions, end: &Sessions) {
    let names = |sessions: &Sessions| {
        let names: Vec<&str> = sessions
            .dbagent
            .iter()
            .map(|(_, name)| name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    println!(
        "target sessions of DBAgent: {} at the start, {} at the end; sessions opened by anyone \
         during the watch: {}",
        names(start),
        names(end),
        end.opened - start.opened
    );
}
