//! `dbagent investigate`: one investigation of any PostgreSQL server with the runner's engine,
//! printed as text or as the JSON of [`Report`].

use std::time::Duration;

use runner::investigate::report::Report;
use runner::investigate::{InvestigateOptions, Investigation, TableDelta, investigate};
use tokio_postgres::Client;

use crate::args::InvestigateArgs;

/// Maximum accepted window. Longer windows hold the connection open for no better ranking.
const MAX_WINDOW_SECONDS: f64 = 3600.0;
/// PostgreSQL's `INDEX_MAX_KEYS` in a default build.
const MAX_INDEX_COLUMNS: usize = 32;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: &InvestigateArgs) -> anyhow::Result<()> {
    let options = options(args)?;
    let client = connect(&args.dsn).await?;

    eprintln!("Watching pg_stat_statements for {} s ...", args.window);
    let investigation = match investigate(&client, &options).await {
        Ok(investigation) => investigation,
        Err(error) => return Err(crate::investigate_errors::explain(&client, error).await),
    };
    check_usable(&investigation, args.window)?;

    let report = Report::from(&investigation);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::investigate_text::render(&report));
    }
    Ok(())
}

/// Validates the arguments and turns them into the engine's options.
fn options(args: &InvestigateArgs) -> anyhow::Result<InvestigateOptions> {
    let window = args.window;
    if !(window > 0.0 && window <= MAX_WINDOW_SECONDS) {
        anyhow::bail!(
            "--window {window} is invalid; give seconds more than 0 and at most \
             {MAX_WINDOW_SECONDS}, such as --window 10"
        );
    }
    if args.top == 0 {
        anyhow::bail!("--top 0 analyzes nothing; give 1 or more statements, such as --top 5");
    }
    if !(1..=MAX_INDEX_COLUMNS).contains(&args.max_index_columns) {
        anyhow::bail!(
            "--max-index-columns {} is invalid; give 1 to {MAX_INDEX_COLUMNS}, such as 3",
            args.max_index_columns
        );
    }
    Ok(InvestigateOptions {
        window: Duration::from_secs_f64(window),
        top_statements: args.top,
        max_index_columns: args.max_index_columns,
        ..InvestigateOptions::default()
    })
}

/// Connects as `sslmode` in the URL requests. Messages name the server but never the password.
async fn connect(dsn: &str) -> anyhow::Result<Client> {
    let mut target = pgconn::parse(dsn).map_err(|error| {
        anyhow::anyhow!(
            "--dsn is invalid ({error}); give a libpq URL such as \
             postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=require"
        )
    })?;
    target
        .config
        .application_name("dbagent-investigate")
        .connect_timeout(CONNECT_TIMEOUT);
    let server = describe_server(&target.config);
    pgconn::connect(&target).await.map_err(|error| {
        anyhow::anyhow!(
            "failed to connect to {server}: {:#}; check that the server is running and \
             reachable from here, and the user, password, database and sslmode in --dsn",
            anyhow::Error::new(error)
        )
    })
}

/// Names host, port, database and user of a connection, which contain no secret.
fn describe_server(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("(default)");
    let user = config.get_user().unwrap_or("(default)");
    format!("{host}:{port}, database {database} as user {user}")
}

/// Fails when the window has nothing to report: its counters were reset, or no statement
/// touched a table.
fn check_usable(investigation: &Investigation, window_seconds: f64) -> anyhow::Result<()> {
    if let Some(reset) = &investigation.counter_reset {
        anyhow::bail!(
            "the statistics were reset during the window ({reset}); run the command again \
             when nothing resets pg_stat_statements"
        );
    }
    if !tables_were_used(investigation.tables.values()) {
        anyhow::bail!(
            "No statement ran in the {window_seconds} s window (no table was read or \
             written); run the workload and try again, or lengthen --window"
        );
    }
    Ok(())
}

/// Tells whether any user table was scanned or written in the window. The engine's own
/// statements during the window read only catalogs and statistics views, so they never count.
// NOTE: a backend reports its table counters about once a second, so a window of about a
// second can miss a workload. With `track_counts = off` the counters never move.
fn tables_were_used<'a>(tables: impl IntoIterator<Item = &'a TableDelta>) -> bool {
    tables
        .into_iter()
        .any(|table| table.seq_scan > 0 || table.idx_scan > 0 || table.writes > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(window: f64) -> InvestigateArgs {
        InvestigateArgs {
            dsn: "postgres://127.0.0.1/shop".to_string(),
            window,
            top: 5,
            max_index_columns: 3,
            json: false,
        }
    }

    #[test]
    fn window_out_of_range_is_rejected() {
        for window in [0.0, -1.0, f64::NAN, 3600.5, f64::INFINITY] {
            let error = options(&args(window)).unwrap_err().to_string();
            assert!(error.contains(&format!("--window {window}")), "{error}");
            assert!(error.contains("at most 3600"), "{error}");
        }
    }

    #[test]
    fn arguments_reach_the_options() {
        let mut arguments = args(2.5);
        arguments.top = 2;
        arguments.max_index_columns = 1;
        let options = options(&arguments).unwrap();

        assert_eq!(options.window, Duration::from_millis(2500));
        assert_eq!(options.top_statements, 2);
        assert_eq!(options.max_index_columns, 1);
        assert!(options.retry_after_reset);
    }

    #[test]
    fn zero_counts_are_rejected() {
        let mut no_statements = args(10.0);
        no_statements.top = 0;
        assert!(options(&no_statements).is_err());

        let mut no_columns = args(10.0);
        no_columns.max_index_columns = 0;
        let error = options(&no_columns).unwrap_err().to_string();
        assert!(error.contains("--max-index-columns 0"), "{error}");
    }

    #[test]
    fn server_description_leaves_out_the_password() {
        let target = pgconn::parse("postgres://alice:s3cret@127.0.0.1:6543/shop").unwrap();
        let described = describe_server(&target.config);

        assert_eq!(described, "127.0.0.1:6543, database shop as user alice");
        assert!(!described.contains("s3cret"));
    }
}
