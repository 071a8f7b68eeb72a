//! Decisions on proposed actions, one per issue.

use contracts::{ApprovalDecision, IssueId, ServerId};
use store::DocumentStoreExt;

use crate::versioned::Location;
use crate::{ControlPlane, Result, layout};

impl ControlPlane {
    /// Records a decision; returns `false` when the issue already has one, which is kept.
    pub async fn record_decision(
        &self,
        server_id: &ServerId,
        decision: &ApprovalDecision,
    ) -> Result<bool> {
        let id = decision.issue_id.to_string();
        match self
            .store
            .create_typed(layout::DECISIONS, &server_id.0, &id, decision)
            .await
        {
            Ok(_) => Ok(true),
            Err(store::Error::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn decision(
        &self,
        server_id: &ServerId,
        issue_id: IssueId,
    ) -> Result<Option<ApprovalDecision>> {
        let id = issue_id.to_string();
        let location = Location {
            kind: "decision",
            container: layout::DECISIONS,
            partition_key: &server_id.0,
            id: &id,
        };
        Ok(location
            .read_optional(&*self.store)
            .await?
            .map(|versioned| versioned.value))
    }
}
