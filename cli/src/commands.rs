//! One function per subcommand.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use tokio_util::sync::CancellationToken;

use crate::api_client::ApiClient;
use crate::args::{
    Cli, Command, DemoArgs, GlobalArgs, PgbenchArgs, SeedArgs, StatusArgs, UpArgs, WorkloadArgs,
    WorkloadCommand,
};
use crate::{components, stack, status, workload_process};

pub async fn run(mut cli: Cli) -> anyhow::Result<()> {
    // Absolute, so that paths in the output and in background workloads do not depend on the
    // working directory.
    cli.global.state_dir = std::path::absolute(&cli.global.state_dir)
        .with_context(|| format!("invalid state directory {}", cli.global.state_dir.display()))?;
    let global = &cli.global;
    match cli.command {
        Command::Up(args) => up(global, &args).await,
        Command::Down => down(&global.state_dir),
        Command::Status(args) => show_status(global, &args).await,
        Command::Seed(args) => {
            stack::running_target(&global.state_dir)?;
            seed(global, &args).await
        }
        Command::Workload(command) => workload(global, command).await,
        Command::Demo(args) => demo(global, &args).await,
        Command::Investigate(args) => crate::investigate::run(&args).await,
        Command::Platform(args) => {
            components::run_platform(&global.state_dir, &args, termination()).await
        }
        Command::Runner(args) => {
            components::run_runner(&global.state_dir, &args, termination()).await
        }
        Command::Api(args) => components::run_api(&global.state_dir, &args, termination()).await,
    }
}

async fn up(global: &GlobalArgs, args: &UpArgs) -> anyhow::Result<()> {
    // Reject bad settings before spending time on the clusters.
    scenario::Scale::new(args.seed.orders)?;
    let vcores = target_vcores(global)?;
    eprintln!("Starting clusters in {}", global.state_dir.display());
    stack::ensure_clusters(&global.state_dir).await?;
    seed(global, &args.seed).await?;

    if !args.clusters_only {
        components::register_local_target(&global.state_dir, vcores).await?;
        let url = components::start_all(&global.state_dir, args.api_listen).await?;
        let (_, token) = components::api_endpoint(&global.state_dir)?;
        println!("Dashboard: {url}/ (sign in with the token {token})");
        if !components::dashboard_is_built() {
            println!(
                "  Its WASM is not built, so pages will not update; build it with `cargo leptos build`."
            );
        }
        println!("API: {url}/api (the same token as a bearer token)");
        println!("OpenAPI document: {url}/api/openapi.json");
    }
    println!();
    let status = StatusArgs {
        json: false,
        interval: 1.0,
    };
    show_status(global, &status).await
}

async fn seed(global: &GlobalArgs, args: &SeedArgs) -> anyhow::Result<()> {
    let target = stack::running_target(&global.state_dir)?;
    let options = scenario::SeedOptions {
        scale: scenario::Scale::new(args.orders)?,
        ..Default::default()
    };
    let dsn = target.connection_string(stack::TARGET_DATABASE);
    match scenario::seed(&dsn, &options).await? {
        scenario::SeedOutcome::Loaded { scale, elapsed } => eprintln!(
            "Loaded {} orders into {} in {:.1} s",
            scale.orders(),
            stack::TARGET_DATABASE,
            elapsed.as_secs_f64()
        ),
        scenario::SeedOutcome::AlreadySeeded { scale } => eprintln!(
            "{} already holds {} orders; nothing to load",
            stack::TARGET_DATABASE,
            scale.orders()
        ),
    }
    Ok(())
}

fn down(state_dir: &Path) -> anyhow::Result<()> {
    for name in workload_process::stop(state_dir, None)? {
        eprintln!("Stopped workload {name}");
    }
    for name in components::stop_all(state_dir)? {
        eprintln!("Stopped {name}");
    }
    stack::stop_clusters(state_dir)?;
    eprintln!("Stopped clusters in {}", state_dir.display());
    Ok(())
}

async fn show_status(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<()> {
    if !(args.interval > 0.0 && args.interval <= 60.0) {
        anyhow::bail!(
            "--interval {} is out of range; give seconds between 0 and 60",
            args.interval
        );
    }
    let vcores = target_vcores(global)?;
    let interval = Duration::from_secs_f64(args.interval);
    let status = status::collect(&global.state_dir, vcores, interval).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        status::print_text(&status);
    }
    Ok(())
}

async fn workload(global: &GlobalArgs, command: WorkloadCommand) -> anyhow::Result<()> {
    match command {
        WorkloadCommand::Start(args) => {
            args.name.parse::<scenario::Workload>()?;
            let dsn = workload_dsn(global, args.dsn.as_deref())?;
            let pid = workload_process::start(&global.state_dir, &args, &dsn)?;
            eprintln!(
                "Started workload {} (pid {pid}); stop it with `dbagent workload stop`",
                args.name
            );
            Ok(())
        }
        WorkloadCommand::Stop { name } => {
            let stopped = workload_process::stop(&global.state_dir, name.as_deref())?;
            if stopped.is_empty() {
                eprintln!("No workload was running");
            }
            for name in stopped {
                eprintln!("Stopped workload {name}");
            }
            Ok(())
        }
        WorkloadCommand::Run(args) => run_workload(global, &args).await,
        WorkloadCommand::Pgbench(args) => run_pgbench(global, &args).await,
    }
}

async fn run_workload(global: &GlobalArgs, args: &WorkloadArgs) -> anyhow::Result<()> {
    let dsn = workload_dsn(global, args.dsn.as_deref())?;
    let workload: scenario::Workload = args.name.parse()?;
    let options = scenario::RunOptions {
        workload,
        sessions: args.concurrency,
        rate: Some(args.rate),
        duration: args.duration.map(Duration::from_secs_f64),
    };

    eprintln!(
        "Running {workload} with {} sessions at {} statements/s",
        args.concurrency, args.rate
    );
    let report = scenario::workload::run(&dsn, &options, wait_for_termination()).await?;
    eprintln!(
        "Stopped {workload}: {} statements, {} errors, mean latency {:.1} ms in {:.1} s",
        report.statements,
        report.errors,
        report.mean_latency.as_secs_f64() * 1000.0,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

async fn run_pgbench(global: &GlobalArgs, args: &PgbenchArgs) -> anyhow::Result<()> {
    let workload: scenario::Workload = args.name.parse()?;
    let dsn = workload_dsn(global, args.dsn.as_deref())?;
    let scale = scenario::read_scale(&dsn)
        .await?
        .context("the database has no scenario data; load it first with `dbagent seed`")?;

    let script_dir = global.state_dir.join("pgbench");
    std::fs::create_dir_all(&script_dir)?;
    let script = scenario::pgbench::write_script(&script_dir, workload)?;
    let mut options =
        scenario::pgbench::PgbenchOptions::new(workload, Duration::from_secs(args.duration));
    options.clients = args.concurrency;
    options.rate = Some(args.rate);

    let pgbench = cluster::PgBinaries::locate()?.program("pgbench");
    let command = scenario::pgbench::command(&pgbench, &dsn, &script, scale, &options)?;
    // The arguments only: the command's environment carries PGPASSWORD.
    let arguments: Vec<_> = command
        .get_args()
        .map(|arg| arg.to_string_lossy())
        .collect();
    eprintln!("Running {} {}", pgbench.display(), arguments.join(" "));
    let status = tokio::process::Command::from(command)
        .status()
        .await
        .with_context(|| format!("failed to run {}", pgbench.display()))?;
    anyhow::ensure!(status.success(), "pgbench failed with {status}");
    Ok(())
}

fn workload_dsn(global: &GlobalArgs, dsn: Option<&str>) -> anyhow::Result<String> {
    match dsn {
        Some(dsn) => Ok(dsn.to_string()),
        None => {
            Ok(stack::running_target(&global.state_dir)?.connection_string(stack::TARGET_DATABASE))
        }
    }
}

fn target_vcores(global: &GlobalArgs) -> anyhow::Result<u32> {
    match global.vcores {
        Some(0) => anyhow::bail!(
            "--vcores 0 is invalid; give the number of vCores of the target, 1 or more"
        ),
        Some(vcores) => Ok(vcores),
        None => Ok(std::thread::available_parallelism().map_or(1, |cores| cores.get() as u32)),
    }
}

async fn demo(global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<()> {
    let (url, token) = components::api_endpoint(&global.state_dir)?;
    let api = ApiClient::new(&url, &token);
    let incidents =
        crate::demo::play(&global.state_dir, &api, Duration::from_secs(args.timeout)).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "incidents": incidents }))?
        );
    } else {
        crate::demo::print_text(&incidents);
    }
    Ok(())
}

/// Returns a token that is cancelled on Ctrl-C or SIGTERM.
fn termination() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_termination().await;
        cancel.cancel();
    });
    token
}

/// Waits for Ctrl-C or SIGTERM, which `dbagent workload stop` sends.
async fn wait_for_termination() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
