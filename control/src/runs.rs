//! Runs, partitioned by server.

use contracts::{Run, RunId, ServerId};
use store::{DocumentStoreExt, Query};

use crate::versioned::Location;
use crate::{ControlPlane, Result, Versioned, layout};

fn location<'a>(server_id: &'a ServerId, id: &'a str) -> Location<'a> {
    Location {
        kind: "run",
        container: layout::RUNS,
        partition_key: &server_id.0,
        id,
    }
}

impl ControlPlane {
    /// Creates a run; returns `false` when a run with its id exists, so that handling the same
    /// alert twice creates one run.
    pub async fn create_run(&self, run: &Run) -> Result<bool> {
        let id = run.id.to_string();
        match self
            .store
            .create_typed(layout::RUNS, &run.server_id.0, &id, run)
            .await
        {
            Ok(_) => Ok(true),
            Err(store::Error::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn run(&self, server_id: &ServerId, id: RunId) -> Result<Versioned<Run>> {
        location(server_id, &id.to_string())
            .read(&*self.store)
            .await
    }

    /// Changes a run under optimistic concurrency; see [`Location::update`].
    pub async fn update_run<F>(&self, server_id: &ServerId, id: RunId, change: F) -> Result<Run>
    where
        F: FnMut(&mut Run) -> bool,
    {
        location(server_id, &id.to_string())
            .update(&*self.store, change)
            .await
    }

    /// Runs of a server, newest first.
    pub async fn runs(&self, server_id: &ServerId) -> Result<Vec<Run>> {
        let documents = self
            .store
            .query_typed(layout::RUNS, &server_id.0, &Query::new())
            .await?;
        let mut values: Vec<Run> = documents
            .into_iter()
            .map(|document| document.value)
            .collect();
        // Sorted here: RFC 3339 strings with varying fractional digits do not sort as times.
        values.sort_by_key(|value| std::cmp::Reverse(value.created_at));
        Ok(values)
    }
}
