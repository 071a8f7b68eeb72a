use std::sync::Arc;

use bus::{MessageBus, PgBus};
use store::{DocumentStore, PgStore};

use crate::{Result, layout};

/// The store and the bus, shared by every handler of a component.
#[derive(Clone)]
pub struct ControlPlane {
    pub store: Arc<dyn DocumentStore>,
    pub bus: Arc<dyn MessageBus>,
}

impl ControlPlane {
    pub fn new(store: Arc<dyn DocumentStore>, bus: Arc<dyn MessageBus>) -> ControlPlane {
        ControlPlane { store, bus }
    }

    /// Connects the embedded control plane: store and bus in one PostgreSQL database.
    pub async fn connect_postgres(url: &str) -> Result<ControlPlane> {
        let store = PgStore::connect(url).await?;
        let bus = PgBus::connect(url).await?;
        Ok(ControlPlane::new(Arc::new(store), Arc::new(bus)))
    }

    /// Creates every container and queue; safe to call from each component at start.
    pub async fn ensure_layout(&self) -> Result<()> {
        for container in layout::CONTAINERS {
            self.store.create_container(container).await?;
        }
        for (queue, options) in layout::queues() {
            self.bus.create_queue(queue, options).await?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlPlane")
    }
}
