//! `dbagent`: runs the local stack, shows its status, loads the scenario data and drives
//! workloads against any PostgreSQL server.

mod api_client;
mod args;
mod background;
mod commands;
mod components;
mod demo;
mod demo_reset;
mod investigate;
mod investigate_errors;
mod investigate_text;
mod scenario_control;
mod stack;
mod status;
mod workload_process;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();

    let cli = args::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Joins an error and its causes, leaving out causes whose text a message above already
/// includes, because many library errors repeat their source in their own message.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}
