//! The CPU monitor: measures each local server's CPU and fires an alert when its window average
//! exceeds the server's threshold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::Utc;
use contracts::{Alert, AlertId, AlertSource, CpuSample, MetricsSource, Server, ServerId};
use futures::StreamExt;
use scenario::CpuSampler;
use tracing::{Instrument, debug, error, info, warn};

use crate::alerts::AlertOutcome;
use crate::error::chain;
use crate::lock;
use crate::window::CpuWindow;
use crate::{Error, Platform, Result};

/// One server's measurement in a monitor tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub server_id: ServerId,
    /// CPU over the last interval, in percent of the server's vCores.
    pub cpu_pct: f64,
    /// Average over the window; `None` until the window has filled.
    pub window_average: Option<f64>,
    /// The outcome of the alert this reading fired, if it fired one.
    pub alert: Option<AlertOutcome>,
}

/// Measures the CPU of every enabled server whose metrics come from a local process.
///
/// Clones share their windows, so a clone can run the loop while another inspects it.
#[derive(Debug, Clone)]
pub struct Monitor {
    platform: Platform,
    windows: Arc<Mutex<HashMap<ServerId, CpuWindow>>>,
}

impl Monitor {
    pub fn new(platform: Platform) -> Monitor {
        Monitor {
            platform,
            windows: Arc::default(),
        }
    }

    /// Measures every monitored server once, concurrently, over one interval, and fires the
    /// alerts that are due. A server that fails to be measured is logged and left out.
    pub async fn tick(&self) -> Result<Vec<Reading>> {
        let servers = monitored(self.platform.control.servers().await?);
        self.forget_others(&servers);
        if servers.is_empty() {
            // Keeps a loop that calls tick from spinning while nothing is registered.
            tokio::time::sleep(self.platform.config.monitor_interval).await;
            return Ok(Vec::new());
        }
        let limit = self.platform.config.max_concurrent_samples.max(1);
        let readings: Vec<Option<Reading>> = futures::stream::iter(servers)
            .map(|(server, data_dir)| {
                let span = tracing::info_span!("monitor", server.id = %server.id);
                self.watch(server, data_dir).instrument(span)
            })
            .buffer_unordered(limit)
            .collect()
            .await;
        Ok(readings.into_iter().flatten().collect())
    }

    async fn watch(&self, server: Server, data_dir: PathBuf) -> Option<Reading> {
        let measured = self.measure(&server, &data_dir).await;
        let outcome = match measured {
            Ok(cpu_pct) => self.evaluate(&server, cpu_pct).await,
            Err(failure) => Err(failure),
        };
        match outcome {
            Ok(reading) => Some(reading),
            Err(failure) => {
                self.report_failure(&server.id, &failure);
                None
            }
        }
    }

    async fn measure(&self, server: &Server, data_dir: &Path) -> Result<f64> {
        let pid = read_postmaster_pid(&server.id, data_dir).await?;
        let cpu_error = |source| Error::Cpu {
            server_id: server.id.clone(),
            source,
        };
        let sampler = CpuSampler::new(pid, Some(server.vcores.max(1))).map_err(cpu_error)?;
        let interval = self.platform.config.monitor_interval;
        sampler.sample(interval).await.map_err(cpu_error)
    }

    /// Records the sample, updates the window and fires an alert when one is due.
    async fn evaluate(&self, server: &Server, cpu_pct: f64) -> Result<Reading> {
        let control = &self.platform.control;
        let sample = CpuSample {
            at: Utc::now(),
            cpu_pct,
        };
        control.record_cpu_sample(&server.id, sample).await?;

        let threshold = self.threshold(server);
        let (window_average, due) = {
            let mut windows = self.windows();
            let window = self.window(&mut windows, &server.id);
            if window.record_success() {
                info!("server measured again");
            }
            (
                window.push(cpu_pct, threshold),
                window.should_fire(threshold),
            )
        };
        debug!(cpu_pct, ?window_average, threshold, "measured CPU");

        let alert = match window_average {
            Some(average) if due => self.fire(server, average, threshold).await?,
            _ => None,
        };
        Ok(Reading {
            server_id: server.id.clone(),
            cpu_pct,
            window_average,
            alert,
        })
    }

    /// Fires an alert unless a run has the server's lock, because that run is already on it.
    async fn fire(
        &self,
        server: &Server,
        average: f64,
        threshold: f64,
    ) -> Result<Option<AlertOutcome>> {
        if let Some(held) = lock::read(&self.platform.control, &server.id).await? {
            debug!(holder.run.id = %held.value.run_id, "CPU above threshold, but a run has the server's lock; no alert");
            return Ok(None);
        }
        let window = self.platform.config.cpu_window;
        let status = self.platform.control.server_status(&server.id).await?;
        let alert = Alert {
            id: AlertId::new(),
            server_id: server.id.clone(),
            source: AlertSource::CpuMonitor,
            metric: "cpu_percent".to_string(),
            value: average,
            threshold,
            window_seconds: u32::try_from(window.as_secs()).unwrap_or(u32::MAX),
            fired_at: Utc::now(),
            over_threshold_since: status.over_threshold_since(threshold),
        };
        info!(alert.id = %alert.id, average, threshold, "CPU above threshold; firing an alert");
        let outcome = self.platform.handle_alert(&alert).await?;
        if matches!(outcome, AlertOutcome::Dispatched { .. }) {
            self.window(&mut self.windows(), &server.id).disarm();
        }
        Ok(Some(outcome))
    }

    fn threshold(&self, server: &Server) -> f64 {
        let threshold = server.cpu_threshold_pct;
        if threshold.is_finite() && threshold > 0.0 {
            threshold
        } else {
            self.platform.config.default_cpu_threshold_pct
        }
    }

    fn report_failure(&self, server_id: &ServerId, failure: &Error) {
        let now = Instant::now();
        let Some(failures) = self
            .window(&mut self.windows(), server_id)
            .record_failure(now)
        else {
            return;
        };
        let cause = chain(failure);
        if failure.is_server_stopped() {
            warn!(failures, error = %cause, "server is not running; skipping it");
        } else {
            error!(failures, error = %cause, "failed to measure a server");
        }
    }

    fn windows(&self) -> MutexGuard<'_, HashMap<ServerId, CpuWindow>> {
        // A panic while the map was held leaves only sample data behind, which stays usable.
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn window<'a>(
        &self,
        windows: &'a mut HashMap<ServerId, CpuWindow>,
        server_id: &ServerId,
    ) -> &'a mut CpuWindow {
        let capacity = self.platform.config.samples_per_window();
        windows
            .entry(server_id.clone())
            .or_insert_with(|| CpuWindow::new(capacity))
    }

    fn forget_others(&self, servers: &[(Server, PathBuf)]) {
        self.windows()
            .retain(|id, _| servers.iter().any(|(server, _)| &server.id == id));
    }
}

/// Enabled servers whose CPU comes from a local process, with their data directories.
fn monitored(servers: Vec<Server>) -> Vec<(Server, PathBuf)> {
    servers
        .into_iter()
        .filter(|server| server.agent_enabled)
        .filter_map(|server| match &server.metrics {
            MetricsSource::LocalProcess { data_dir } => {
                let data_dir = PathBuf::from(data_dir);
                Some((server, data_dir))
            }
            MetricsSource::AzureMonitor { .. } => None,
        })
        .collect()
}

/// Reads the postmaster's process id from the first line of `postmaster.pid`.
async fn read_postmaster_pid(server_id: &ServerId, data_dir: &Path) -> Result<u32> {
    let path = data_dir.join("postmaster.pid");
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(source) => {
            let server_id = server_id.clone();
            return Err(Error::PidFile {
                server_id,
                path,
                source,
            });
        }
    };
    let first_line = text.lines().next().unwrap_or_default().trim();
    first_line.parse().map_err(|_| Error::InvalidPidFile {
        server_id: server_id.clone(),
        path: path.clone(),
        first_line: first_line.to_string(),
    })
}
