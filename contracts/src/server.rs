use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ServerId;

/// A PostgreSQL server registered with DBAgent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Server {
    pub id: ServerId,
    /// Address and database without credentials, such as `127.0.0.1:5433/shop`.
    pub endpoint: String,
    /// Whether DBAgent watches this server and may open runs on it.
    pub agent_enabled: bool,
    /// vCores assigned to the server; CPU percentages are relative to them.
    pub vcores: u32,
    /// CPU percentage above which the monitor fires an alert.
    pub cpu_threshold_pct: f64,
    pub metrics: MetricsSource,
    pub registered_at: DateTime<Utc>,
}

/// The place the server's CPU is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricsSource {
    /// A cluster on this machine: the CPU time of the postmaster recorded in the data
    /// directory's `postmaster.pid` and of its children, from `/proc`.
    LocalProcess { data_dir: String },
    /// An Azure Flexible Server whose `cpu_percent` metric alerts arrive by webhook.
    AzureMonitor { resource_id: String },
}

/// One CPU measurement of a server, percent of its vCores over the sampling interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CpuSample {
    pub at: DateTime<Utc>,
    pub cpu_pct: f64,
}

/// Recent CPU of a server as the monitor measured it, oldest sample first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerStatus {
    pub server_id: ServerId,
    pub samples: Vec<CpuSample>,
}

impl ServerStatus {
    pub fn latest(&self) -> Option<CpuSample> {
        self.samples.last().copied()
    }

    /// Averages the samples taken after `since`; `None` when there are none.
    pub fn average_since(&self, since: DateTime<Utc>) -> Option<f64> {
        self.average_between(since, DateTime::<Utc>::MAX_UTC)
    }

    /// Averages the samples taken after `from` and up to `to`; `None` when there are none.
    pub fn average_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        let chosen: Vec<f64> = self
            .samples
            .iter()
            .filter(|sample| sample.at > from && sample.at <= to)
            .map(|sample| sample.cpu_pct)
            .collect();
        (!chosen.is_empty()).then(|| chosen.iter().sum::<f64>() / chosen.len() as f64)
    }

    /// Time of the first sample in the newest unbroken stretch of samples above `threshold`;
    /// `None` when the newest sample is not above it.
    pub fn over_threshold_since(&self, threshold: f64) -> Option<DateTime<Utc>> {
        self.samples
            .iter()
            .rev()
            .take_while(|sample| sample.cpu_pct > threshold)
            .last()
            .map(|sample| sample.at)
    }

    /// Counts the samples taken after `since`.
    pub fn samples_since(&self, since: DateTime<Utc>) -> usize {
        self.samples
            .iter()
            .filter(|sample| sample.at > since)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_counts_only_later_samples() {
        let at = |seconds| DateTime::from_timestamp(seconds, 0).unwrap();
        let status = ServerStatus {
            server_id: "local-target".into(),
            samples: vec![
                CpuSample {
                    at: at(10),
                    cpu_pct: 90.0,
                },
                CpuSample {
                    at: at(20),
                    cpu_pct: 10.0,
                },
                CpuSample {
                    at: at(30),
                    cpu_pct: 20.0,
                },
            ],
        };
        assert_eq!(status.average_since(at(15)), Some(15.0));
        assert_eq!(status.average_since(at(30)), None);
        assert_eq!(status.average_between(at(5), at(20)), Some(50.0));
        assert_eq!(status.samples_since(at(10)), 2);
        assert_eq!(status.latest().unwrap().cpu_pct, 20.0);
        assert_eq!(status.over_threshold_since(15.0), Some(at(30)));
        assert_eq!(status.over_threshold_since(5.0), Some(at(10)));
        assert_eq!(status.over_threshold_since(50.0), None);
    }
}
