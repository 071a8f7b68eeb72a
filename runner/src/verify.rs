//! Proof that a built index fixed the problem: it is valid, the statement's plan uses it, the
//! statement's mean time fell, and the server's CPU fell below its threshold.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::action::quote_identifier;
use contracts::{CreateIndex, Issue, Run, ServerStatus};
use tokio_postgres::Client;

use crate::execute::index_validity;
use crate::investigate::{self, InvestigateOptions};
use crate::statement_timing::{self, GAIN_RATIO, MeanTime, TimingWindow};
use crate::{Context, Error};

const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The measurements behind a verified fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub index_name: String,
    pub cpu_after_pct: f64,
    pub threshold_pct: f64,
    /// The statement's mean time in the investigation window, before the index.
    pub mean_before_ms: f64,
    /// The statement's mean time over the verification window.
    pub mean_after: MeanTime,
}

impl Verification {
    pub fn summary(&self) -> String {
        format!(
            "{} is valid and used by the statement's plan; {}; CPU {:.1} % (threshold {:.0} %)",
            self.index_name,
            self.mean_after.describe(self.mean_before_ms),
            self.cpu_after_pct,
            self.threshold_pct
        )
    }
}

/// Checks the index and the plan, then measures the statement's mean time and the CPU over
/// the verification window. A failed check returns an [`Error::Verification`] that names
/// what did not hold, and a mean time that did not fall returns [`Error::NoGain`]. A mean
/// time that could not be measured does not fail the verification, and the summary gives
/// the reason.
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
    let mut index_names = vec![action.index_name.as_str()];
    index_names.extend(action.partitions.iter().map(|p| p.index_name.as_str()));
    let used =
        investigate::plan_uses_index(client, &issue.evidence.statement, &index_names, &options)
            .await?;
    if !used {
        return Err(Error::Verification(format!(
            "the statement's generic plan does not use {}",
            action.index_name
        )));
    }

    let server = ctx.control.server(&run.server_id).await?;
    let threshold = effective_threshold(server.cpu_threshold_pct);
    let (cpu_after_pct, mean_after) = measure_after(ctx, client, run, issue, threshold).await?;
    let verification = Verification {
        index_name: action.index_name.clone(),
        cpu_after_pct,
        threshold_pct: threshold,
        mean_before_ms: issue.evidence.mean_time_ms,
        mean_after,
    };
    check_gain(verification, action)
}

/// Waits for the load to settle on the new index, then measures the statement's mean time
/// over at least the verification window while waiting for CPU to fall below `threshold`.
async fn measure_after(
    ctx: &Context,
    client: &Client,
    run: &Run,
    issue: &Issue,
    threshold: f64,
) -> Result<(f64, MeanTime), Error> {
    tokio::time::sleep(ctx.config.verify_settle).await;
    let window_end = tokio::time::Instant::now() + ctx.config.verify_window;
    let timing = TimingWindow::open(client, &run.server_id, issue.evidence.query_id).await;
    let cpu_after_pct = wait_for_cpu_below(ctx, run, threshold).await?;
    tokio::time::sleep_until(window_end).await;
    let mean_after = timing.close(client, &run.server_id).await;
    Ok((cpu_after_pct, mean_after))
}

/// Returns [`Error::NoGain`] when the measured mean time is not below [`GAIN_RATIO`] of the
/// mean before. The index then stays in place, and the reason proposes its removal.
fn check_gain(verification: Verification, action: &CreateIndex) -> Result<Verification, Error> {
    let MeanTime::Measured { mean_ms, calls } = verification.mean_after else {
        return Ok(verification);
    };
    if statement_timing::brought_gain(verification.mean_before_ms, mean_ms) {
        return Ok(verification);
    }
    let reason = format!(
        "{} brought no gain: the statement's {}, not below {:.0} % of the mean before. The index \
         only adds work to every write and takes disk space, so drop it with DROP INDEX \
         CONCURRENTLY {}.{}",
        action.index_name,
        verification
            .mean_after
            .describe(verification.mean_before_ms),
        GAIN_RATIO * 100.0,
        quote_identifier(&action.schema),
        quote_identifier(&action.index_name)
    );
    tracing::debug!(calls, mean_ms, "the index brought no gain");
    Err(Error::NoGain {
        reason,
        cpu_after_pct: verification.cpu_after_pct,
        mean_time_after_ms: mean_ms,
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

/// Waits until the latest samples, taken from now on, average below the threshold, and
/// returns that average. Called after the settling time.
async fn wait_for_cpu_below(ctx: &Context, run: &Run, threshold: f64) -> Result<f64, Error> {
    let from = Utc::now();
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

    fn verification(mean_after_ms: f64) -> Verification {
        Verification {
            index_name: "idx_orders_customer_id".into(),
            cpu_after_pct: 40.0,
            threshold_pct: 80.0,
            mean_before_ms: 12.0,
            mean_after: MeanTime::Measured {
                mean_ms: mean_after_ms,
                calls: 2_500,
            },
        }
    }

    fn action() -> CreateIndex {
        CreateIndex {
            schema: "Sales".into(),
            table: "orders".into(),
            index_name: "idx_orders_customer_id".into(),
            keys: Vec::new(),
            predicate: None,
            ddl: String::new(),
            partitions: Vec::new(),
        }
    }

    #[test]
    fn mean_without_gain_proposes_drop() {
        let Err(Error::NoGain {
            reason,
            cpu_after_pct,
            mean_time_after_ms,
        }) = check_gain(verification(11.5), &action())
        else {
            panic!("a mean of 11.5 ms after 12 ms before passed as a gain");
        };

        assert!(reason.contains("brought no gain"), "{reason}");
        assert!(
            reason.contains("mean 12.0 ms -> 11.5 ms over 2,500 calls"),
            "{reason}"
        );
        assert!(
            reason.ends_with(r#"DROP INDEX CONCURRENTLY "Sales"."idx_orders_customer_id""#),
            "{reason}"
        );
        assert_eq!(cpu_after_pct, 40.0);
        assert_eq!(mean_time_after_ms, 11.5);
    }

    #[test]
    fn mean_with_gain_or_unknown_passes() {
        assert!(check_gain(verification(0.4), &action()).is_ok());

        let mut unknown = verification(0.0);
        unknown.mean_after = MeanTime::Unknown {
            reason: "the statement did not run during the 30 s window".into(),
        };
        assert!(check_gain(unknown, &action()).is_ok());
    }

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
