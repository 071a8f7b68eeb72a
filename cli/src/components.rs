//! The local stack's components, each in the foreground (`dbagent platform|runner|api`) or as
//! background processes started by `dbagent up`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use contracts::{MetricsSource, Server, ServerId};
use control::ControlPlane;
use tokio_util::sync::CancellationToken;

use crate::args::{ApiArgs, ControlArgs, RunnerArgs};
use crate::background::Process;
use crate::stack;

/// Id under which `dbagent up` registers the local target.
pub const LOCAL_TARGET: &str = "local-target";
/// File in the state directory with the URL of the API that `dbagent up` started.
const API_URL_FILE: &str = "api-url";
const HEALTH_TIMEOUT: Duration = Duration::from_secs(15);

fn process(name: &str, args: &[&str]) -> Process {
    Process {
        name: name.to_string(),
        args: args.iter().map(|arg| arg.to_string()).collect(),
    }
}

fn components(api_listen: &str) -> [Process; 3] {
    [
        process("platform", &["platform"]),
        process("runner", &["runner"]),
        process(
            "api",
            &["api", "--listen", api_listen, "--scenario-controls"],
        ),
    ]
}

/// Returns the control-plane URL: the given one, or the local control cluster's.
pub fn control_dsn(state_dir: &Path, args: &ControlArgs) -> anyhow::Result<String> {
    if let Some(dsn) = &args.control_dsn {
        return Ok(dsn.clone());
    }
    let control = cluster::Cluster::open(state_dir, cluster::ClusterKind::Control)?
        .filter(|cluster| cluster.is_running())
        .with_context(|| {
            format!(
                "the local control cluster in {} is not running; start it with `dbagent up`",
                state_dir.display()
            )
        })?;
    Ok(control.connection_string(stack::CONTROL_DATABASE))
}

/// Registers the local target with DBAgent enabled, so that the monitor watches it.
pub async fn register_local_target(state_dir: &Path, vcores: u32) -> anyhow::Result<()> {
    let control = ControlPlane::connect_postgres(&control_dsn(
        state_dir,
        &ControlArgs { control_dsn: None },
    )?)
    .await?;
    control.ensure_layout().await?;
    let target = stack::running_target(state_dir)?;
    let server = Server {
        id: LOCAL_TARGET.into(),
        endpoint: format!("127.0.0.1:{}/{}", target.port(), stack::TARGET_DATABASE),
        agent_enabled: true,
        vcores,
        cpu_threshold_pct: 80.0,
        metrics: MetricsSource::LocalProcess {
            data_dir: target.data_dir().display().to_string(),
        },
        registered_at: Utc::now(),
    };
    control.register_server(&server).await?;
    Ok(())
}

/// Starts Platform Services, a runner and the API in the background, unless they run, and
/// returns the API's URL.
pub async fn start_all(
    state_dir: &Path,
    api_listen: std::net::SocketAddr,
) -> anyhow::Result<String> {
    let control = control_dsn(state_dir, &ControlArgs { control_dsn: None })?;
    let target = stack::running_target(state_dir)?.connection_string(stack::TARGET_DATABASE);
    let targets = format!("{LOCAL_TARGET}={target}");
    for component in components(&api_listen.to_string()) {
        if by_subcommand(&component).running_pid(state_dir).is_some() {
            continue;
        }
        let env = [
            ("DBAGENT_CONTROL_DSN", control.clone()),
            ("DBAGENT_RUNNER_TARGETS", targets.clone()),
        ];
        component.start(state_dir, &env)?;
        if component.name == "api" {
            std::fs::write(state_dir.join(API_URL_FILE), format!("http://{api_listen}"))?;
        }
    }
    let (url, _) = api_endpoint(state_dir)?;
    if url != format!("http://{api_listen}") {
        eprintln!(
            "The API already runs at {url}; --api-listen {api_listen} takes effect after `dbagent down`"
        );
    }
    wait_for_health(&url, &crate::background::log_file(state_dir, "api")).await?;
    Ok(url)
}

/// Returns the same process matched by its subcommand alone, whatever its other arguments.
fn by_subcommand(component: &Process) -> Process {
    Process {
        name: component.name.clone(),
        args: component.args[..1].to_vec(),
    }
}

/// Stops the components; returns the names of those that were running.
pub fn stop_all(state_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut stopped = Vec::new();
    let mut failures = Vec::new();
    for component in components("") {
        match by_subcommand(&component).stop(state_dir) {
            Ok(true) => stopped.push(component.name),
            Ok(false) => {}
            Err(error) => failures.push(format!("{error:#}")),
        }
    }
    // Every component gets its stop attempt before a failure is reported.
    if !failures.is_empty() {
        anyhow::bail!("{}", failures.join("; "));
    }
    Ok(stopped)
}

/// Lists the components that run in the background.
pub fn statuses(state_dir: &Path) -> Vec<crate::background::ProcessStatus> {
    components("")
        .iter()
        .filter_map(|component| by_subcommand(component).status(state_dir))
        .collect()
}

/// Returns the URL and token of the API that `dbagent up` started.
pub fn api_endpoint(state_dir: &Path) -> anyhow::Result<(String, String)> {
    let url = std::fs::read_to_string(state_dir.join(API_URL_FILE)).with_context(|| {
        format!(
            "no API was started from {}; run `dbagent up` first",
            state_dir.display()
        )
    })?;
    let token_path = state_dir.join(server::TOKEN_FILE);
    let token = std::fs::read_to_string(&token_path)
        .with_context(|| format!("failed to read the API token from {}", token_path.display()))?;
    Ok((url.trim().to_string(), token.trim().to_string()))
}

async fn wait_for_health(url: &str, log: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + HEALTH_TIMEOUT;
    loop {
        let healthy = client.get(format!("{url}/api/health")).send().await;
        if healthy.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "the API at {url} did not respond to health checks within {} s; see {}",
                HEALTH_TIMEOUT.as_secs(),
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn run_platform(
    state_dir: &Path,
    args: &ControlArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let control = ControlPlane::connect_postgres(&control_dsn(state_dir, args)?).await?;
    control.ensure_layout().await?;
    let platform = platform::Platform::new(control, platform::PlatformConfig::default());
    platform.run(shutdown).await;
    Ok(())
}

pub async fn run_runner(
    state_dir: &Path,
    args: &RunnerArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // The settings are checked before any connection, so that a typo fails at once.
    let config = runner_config(state_dir, args)?;
    let control = ControlPlane::connect_postgres(&control_dsn(state_dir, &args.control)?).await?;
    control.ensure_layout().await?;
    let context = std::sync::Arc::new(runner::Context { control, config });
    runner::service::run(context, shutdown).await;
    Ok(())
}

fn runner_config(state_dir: &Path, args: &RunnerArgs) -> anyhow::Result<runner::RunnerConfig> {
    let mut config = runner::RunnerConfig::new(runner_targets(state_dir, &args.targets)?);
    config.investigation_window = Duration::try_from_secs_f64(args.investigation_window)
        .ok()
        .filter(|window| !window.is_zero())
        .with_context(|| {
            format!(
                "--investigation-window {} is invalid; give seconds above 0",
                args.investigation_window
            )
        })?;
    config.max_concurrent_runs = args.max_concurrent_runs;
    if !(0.0..=100.0).contains(&args.disk_reserve_percent) {
        anyhow::bail!(
            "--disk-reserve-percent {} is invalid; give a percent from 0 to 100",
            args.disk_reserve_percent
        );
    }
    config.disk_reserve_fraction = args.disk_reserve_percent / 100.0;
    Ok(config)
}

fn runner_targets(
    state_dir: &Path,
    targets: &[String],
) -> anyhow::Result<HashMap<ServerId, String>> {
    if targets.is_empty() {
        let target = stack::running_target(state_dir)?;
        let dsn = target.connection_string(stack::TARGET_DATABASE);
        return Ok(HashMap::from([(LOCAL_TARGET.into(), dsn)]));
    }
    targets
        .iter()
        .map(|entry| {
            let (id, dsn) = entry.split_once('=').with_context(
                || "a target must look like SERVER_ID=postgres://...; one entry has no `=`",
            )?;
            Ok((id.trim().into(), dsn.trim().to_string()))
        })
        .collect()
}

/// Tells whether the dashboard's files are where `dbagent api` looks for them by default.
pub fn dashboard_is_built() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| server::dashboard::default_site_dir(&exe))
        .is_some_and(|dir| server::dashboard::site_is_built(&dir))
}

pub async fn run_api(
    state_dir: &Path,
    args: &ApiArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut config = server::Config::new(control_dsn(state_dir, &args.control)?);
    config.listen = args.listen;
    config.state_dir = state_dir.to_path_buf();
    if args.scenario_controls {
        let controls = crate::scenario_control::LocalWorkloads::open(state_dir)?;
        config.scenario = Some(std::sync::Arc::new(controls));
    }
    config.site_dir = match &args.site_dir {
        Some(dir) => Some(dir.clone()),
        None => server::dashboard::default_site_dir(&std::env::current_exe()?),
    };
    server::serve(config, shutdown).await?;
    Ok(())
}
