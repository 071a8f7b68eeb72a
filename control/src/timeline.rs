//! Timeline events, partitioned by server.

use contracts::{RunId, ServerId, TimelineEvent, TimelineEventKind};
use store::{DocumentStoreExt, Query};

use crate::{ControlPlane, Result, layout};

/// Document id of the event of `kind` in a run. A run has at most one event of each kind, so
/// appending the same event twice keeps one.
pub fn event_key(run_id: RunId, kind: TimelineEventKind) -> String {
    let kind = serde_json::to_value(kind).expect("an event kind serializes");
    format!("{run_id}.{}", kind.as_str().unwrap_or_default())
}

impl ControlPlane {
    /// Appends an event under `key`; returns `false` when an event with that key exists.
    pub async fn append_event(&self, key: &str, event: &TimelineEvent) -> Result<bool> {
        match self
            .store
            .create_typed(layout::TIMELINE, &event.server_id.0, key, event)
            .await
        {
            Ok(_) => Ok(true),
            Err(store::Error::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Events of a server, oldest first.
    pub async fn timeline(&self, server_id: &ServerId) -> Result<Vec<TimelineEvent>> {
        let documents = self
            .store
            .query_typed(layout::TIMELINE, &server_id.0, &Query::new())
            .await?;
        let mut values: Vec<TimelineEvent> = documents
            .into_iter()
            .map(|document| document.value)
            .collect();
        // Sorted here: RFC 3339 strings with varying fractional digits do not sort as times.
        values.sort_by_key(|value| value.at);
        Ok(values)
    }
}
