//! Proof that a built index fixed the problem: it is valid, the statement's plan uses it, and
//! the server's CPU fell below its threshold.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::{CreateIndex, Issue, Run, ServerStatus};
use tokio_postgres::Client;

use crate::execute::index_validity;
use crate::investigate::{self, InvestigateOptions};
use crate::{Context, Error};

const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The measurements behind a verified fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub index_name: String,
    pub cpu_after_pct: f64,
    pub threshold_pct: f64,
}

impl Verification {
    pub fn summary(&self) -> String {
        format!(
            "{} is valid and used by the statement's plan; CPU {:.1} % (threshold {:.0} %)",
            self.index_name, self.cpu_after_pct, self.threshold_pct
        )
    }
}

/// Checks the index, the plan and the CPU, in that order. A failed check returns an
/// [`Error::Verification`] that names what did not hold.
pub async fn verify(
    ctx: &Context,
    client: &Client,
    run: &Run,
    issue: &Issue,
    action: &CreateIndex,
) -> Result<Verification, Error> {
    let validity =
        index_validity(client, &run.server_id, &action.schema, &action.index_name).await?;
    if validity != Some(true) {
        return Err(Error::Verification(format!(
            "{} is not valid after the build",
            action.index_name
        )));
    }

    let options = InvestigateOptions::default();
    let used = investigate::plan_uses_index(
        client,
        &issue.evidence.statement,
        &action.index_name,
        &options,
    )
    .await?;
    if !used {
        return Err(Error::Verification(format!(
            "the statement's generic plan does not use {}",
            action.index_name
        )));
    }

    let server = ctx.control.server(&run.server_id).await?;
    let threshold = effective_threshold(server.cpu_threshold_pct);
    let cpu_after_pct = wait_for_cpu_below(ctx, run, threshold).await?;
    Ok(Verification {
        index_name: action.index_name.clone(),
        cpu_after_pct,
        threshold_pct: threshold,
    })
}

/// Returns the threshold the monitor alerts on: the server's own, or 80 % when that is not a
/// positive number.
fn effective_threshold(configured: f64) -> f64 {
    if configured.is_finite() && configured > 0.0 {
        configured
    } else {
        80.0
    }
}

/// Waits until the latest samples taken after the settling time average below the threshold,
/// and returns that average.
async fn wait_for_cpu_below(ctx: &Context, run: &Run, threshold: f64) -> Result<f64, Error> {
    let settle = chrono::Duration::from_std(ctx.config.verify_settle).unwrap_or_default();
    let from = Utc::now() + settle;
    let deadline = tokio::time::Instant::now() + ctx.config.verify_timeout;
    let mut last_average = None;
    loop {
        let status = ctx.control.server_status(&run.server_id).await?;
        if let Some(average) = latest_average(&status, from, ctx.config.verify_samples) {
            if average < threshold {
                return Ok(average);
            }
            last_average = Some(average);
        }
        if tokio::time::Instant::now() >= deadline {
            let seen = last_average.map_or("no CPU samples".to_string(), |cpu| {
                format!("CPU at {cpu:.1} %")
            });
            return Err(Error::Verification(format!(
                "{seen} after {} s, not below the threshold of {threshold:.0} %",
                ctx.config.verify_timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Averages the newest `count` samples taken after `from`, once there are that many.
fn latest_average(status: &ServerStatus, from: DateTime<Utc>, count: usize) -> Option<f64> {
    let recent: Vec<f64> = status
        .samples
        .iter()
        .filter(|sample| sample.at > from)
        .map(|sample| sample.cpu_pct)
        .collect();
    if recent.len() < count.max(1) {
        return None;
    }
    let newest = &recent[recent.len() - count.max(1)..];
    Some(newest.iter().sum::<f64>() / newest.len() as f64)
}

#[cfg(test)]
mod tests {
    use contracts::CpuSample;

    use super::*;

    #[test]
    fn average_waits_for_enough_samples() {
        let at = |seconds| DateTime::from_timestamp(seconds, 0).unwrap();
        let sample = |seconds, cpu_pct| CpuSample {
            at: at(seconds),
            cpu_pct,
        };
        let status = ServerStatus {
            server_id: "db1".into(),
            samples: vec![
                sample(1, 99.0),
                sample(6, 90.0),
                sample(11, 10.0),
                sample(16, 20.0),
            ],
        };
        assert_eq!(latest_average(&status, at(5), 2), Some(15.0));
        assert_eq!(latest_average(&status, at(12), 2), None);
    }
}
