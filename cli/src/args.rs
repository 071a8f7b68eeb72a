//! Command-line arguments: the one place where DBAgent reads its settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use runner::investigate::InvestigateOptions;

#[derive(Debug, Parser)]
#[command(
    name = "dbagent",
    version,
    about = "An autonomous agent for PostgreSQL"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory for the local clusters, their credentials and workload logs.
    #[arg(
        long,
        env = "DBAGENT_STATE_DIR",
        default_value = ".dbagent",
        global = true
    )]
    pub state_dir: PathBuf,

    /// vCores assigned to the target server; its CPU percentage is relative to them
    /// [default: all cores of this machine].
    #[arg(long, env = "DBAGENT_TARGET_VCORES", global = true)]
    pub vcores: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the clusters, load the scenario data, start Platform Services, a runner and the API,
    /// and show the status.
    Up(UpArgs),
    /// Stop workloads, the components and both clusters.
    Down,
    /// Show each cluster with its port and CPU, and the running workloads.
    Status(StatusArgs),
    /// Create the shop schema in the target and load its data (skipped when already loaded).
    Seed(SeedArgs),
    /// Run, start or stop a named workload.
    #[command(subcommand)]
    Workload(WorkloadCommand),
    /// Play the scenario headless against the running stack and print the timeline.
    Demo(DemoArgs),
    /// Watch any PostgreSQL server's statements for a window and print which index would
    /// help the hottest ones, proven with HypoPG. Builds nothing, but creates the hypopg
    /// extension in the database when it is available and not created yet.
    Investigate(InvestigateArgs),
    /// Run Platform Services in the foreground: CPU monitor, alerts, locks, dispatch.
    Platform(ControlArgs),
    /// Run a runner in the foreground: investigate, propose, execute, verify.
    Runner(RunnerArgs),
    /// Run the REST API in the foreground.
    Api(ApiArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ControlArgs {
    /// Control-plane database (store and bus), as a libpq URL [default: the local control
    /// cluster].
    #[arg(long, env = "DBAGENT_CONTROL_DSN", hide_env_values = true)]
    pub control_dsn: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunnerArgs {
    #[command(flatten)]
    pub control: ControlArgs,

    /// Target servers as `SERVER_ID=URL`, comma-separated [default: the local target as
    /// `local-target`].
    #[arg(
        long,
        env = "DBAGENT_RUNNER_TARGETS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub targets: Vec<String>,

    /// Seconds the investigation watches the statistics views.
    #[arg(long, default_value_t = 10.0)]
    pub investigation_window: f64,

    /// Runs handled at once.
    #[arg(long, default_value_t = 4)]
    pub max_concurrent_runs: usize,

    /// Percent of the data directory's file system that must stay free after an index build,
    /// checked for a target on this machine.
    #[arg(long, default_value_t = 5.0)]
    pub disk_reserve_percent: f64,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(flatten)]
    pub control: ControlArgs,

    /// Address the API listens on.
    #[arg(long, env = "DBAGENT_API_LISTEN", default_value = "127.0.0.1:7480")]
    pub listen: std::net::SocketAddr,

    /// Serve the presenter's controls under `/api/scenario/`, which start and stop workloads
    /// against the local target cluster in the state directory. `dbagent up` sets it.
    #[arg(long)]
    pub scenario_controls: bool,

    /// Directory of the dashboard's built files [default: `site/` beside the directory of this
    /// binary, where `cargo leptos build` writes them].
    #[arg(long, env = "DBAGENT_SITE_DIR")]
    pub site_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print `{"incidents": [...]}` as JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Seconds to wait for each step of an incident before giving up.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct InvestigateArgs {
    /// Database to investigate, as a libpq URL. Its `sslmode` applies as in libpq.
    #[arg(long, env = "DBAGENT_INVESTIGATE_DSN", hide_env_values = true)]
    pub dsn: String,

    /// Seconds to watch `pg_stat_statements`, more than 0 and at most 3600.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    pub window: f64,

    /// Maximum number of statements to analyze, most execution time first.
    #[arg(long, default_value_t = InvestigateOptions::default().top_statements)]
    pub top: usize,

    /// Maximum key columns of a proposed index.
    #[arg(long, default_value_t = InvestigateOptions::default().max_index_columns)]
    pub max_index_columns: usize,

    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub seed: SeedArgs,

    /// Address the API listens on.
    #[arg(long, env = "DBAGENT_API_LISTEN", default_value = "127.0.0.1:7480")]
    pub api_listen: std::net::SocketAddr,

    /// Start only the clusters and the data, not Platform Services, the runner and the API.
    #[arg(long)]
    pub clusters_only: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Rows in `orders`; the other tables scale with it.
    #[arg(long, default_value_t = scenario::scale::DEFAULT_ORDERS)]
    pub orders: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON, including a connection string for each cluster.
    #[arg(long)]
    pub json: bool,

    /// Seconds over which CPU is measured.
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
}

#[derive(Debug, Subcommand)]
pub enum WorkloadCommand {
    /// Start a workload in the background; `dbagent workload stop` ends it.
    Start(WorkloadArgs),
    /// Stop one background workload, or all of them.
    Stop {
        /// Workload to stop [default: all].
        name: Option<String>,
    },
    /// Run a workload in the foreground until Ctrl-C or the duration ends.
    Run(WorkloadArgs),
    /// Drive the same load with pgbench and a custom script, in the foreground.
    Pgbench(PgbenchArgs),
}

#[derive(Debug, Args, Clone)]
pub struct WorkloadArgs {
    /// Workload name: `orders-by-customer` or `shipments-by-tracking`.
    pub name: String,

    /// Server to load, as a libpq URL [default: the local target's `shop` database].
    #[arg(long, env = "DBAGENT_WORKLOAD_DSN")]
    pub dsn: Option<String>,

    /// Concurrent sessions.
    #[arg(long, default_value_t = scenario::workload::DEFAULT_SESSIONS)]
    pub concurrency: usize,

    /// Statements per second across all sessions.
    #[arg(long, default_value_t = scenario::workload::DEFAULT_RATE)]
    pub rate: f64,

    /// Seconds to run [default: until stopped].
    #[arg(long)]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct PgbenchArgs {
    /// Workload name: `orders-by-customer` or `shipments-by-tracking`.
    pub name: String,

    /// Server to load, as a libpq URL [default: the local target's `shop` database].
    #[arg(long)]
    pub dsn: Option<String>,

    /// Clients (pgbench `--client`).
    #[arg(long, default_value_t = scenario::workload::DEFAULT_SESSIONS as u32)]
    pub concurrency: u32,

    /// Transactions per second across all clients (pgbench `--rate`).
    #[arg(long, default_value_t = scenario::workload::DEFAULT_RATE)]
    pub rate: f64,

    /// Seconds to run (pgbench `--time`).
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
}
