//! Registered servers and their recent CPU.

use contracts::{CpuSample, Server, ServerId, ServerStatus};
use store::{DocumentStoreExt, Query};

use crate::versioned::Location;
use crate::{ControlPlane, Error, Result, layout};

/// Samples kept per server: ten minutes at the monitor's default interval of 5 s.
pub const MAX_SAMPLES: usize = 120;

/// Partition of every server document. Servers are few, and one partition lets them be listed
/// with a single query, because the store queries one partition at a time.
const REGISTRY_PARTITION: &str = "registry";

fn server_location(id: &ServerId) -> Location<'_> {
    Location {
        kind: "server",
        container: layout::SERVERS,
        partition_key: REGISTRY_PARTITION,
        id: &id.0,
    }
}

fn status_location(id: &ServerId) -> Location<'_> {
    Location {
        kind: "server status",
        container: layout::SERVER_STATUS,
        partition_key: &id.0,
        id: "cpu",
    }
}

impl ControlPlane {
    /// Registers a server or replaces its registration.
    pub async fn register_server(&self, server: &Server) -> Result<()> {
        let id = &server.id.0;
        self.store
            .upsert_typed(layout::SERVERS, REGISTRY_PARTITION, id, server)
            .await?;
        Ok(())
    }

    pub async fn server(&self, id: &ServerId) -> Result<Server> {
        Ok(server_location(id).read(&*self.store).await?.value)
    }

    pub async fn server_optional(&self, id: &ServerId) -> Result<Option<Server>> {
        Ok(server_location(id)
            .read_optional(&*self.store)
            .await?
            .map(|v| v.value))
    }

    pub async fn servers(&self) -> Result<Vec<Server>> {
        let query = Query::new().order_by("id", store::SortDirection::Ascending);
        let documents = self
            .store
            .query_typed::<Server>(layout::SERVERS, REGISTRY_PARTITION, &query)
            .await?;
        Ok(documents
            .into_iter()
            .map(|document| document.value)
            .collect())
    }

    /// Records a CPU sample, keeping the newest [`MAX_SAMPLES`].
    pub async fn record_cpu_sample(&self, id: &ServerId, sample: CpuSample) -> Result<()> {
        let location = status_location(id);
        let fresh = ServerStatus {
            server_id: id.clone(),
            samples: Vec::new(),
        };
        match self
            .store
            .create_typed(location.container, &id.0, location.id, &fresh)
            .await
        {
            Ok(_) => {}
            Err(store::Error::Conflict { .. }) => {}
            Err(error) => return Err(Error::Store(error)),
        }
        location
            .update(&*self.store, |status: &mut ServerStatus| {
                status.samples.push(sample);
                let excess = status.samples.len().saturating_sub(MAX_SAMPLES);
                status.samples.drain(..excess);
                true
            })
            .await?;
        Ok(())
    }

    pub async fn server_status(&self, id: &ServerId) -> Result<ServerStatus> {
        let status = status_location(id).read_optional(&*self.store).await?;
        Ok(status.map_or_else(
            || ServerStatus {
                server_id: id.clone(),
                samples: Vec::new(),
            },
            |versioned| versioned.value,
        ))
    }
}
