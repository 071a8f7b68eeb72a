//! Issues, partitioned by server.

use contracts::{Issue, IssueId, ServerId};
use store::{DocumentStoreExt, Query};

use crate::versioned::Location;
use crate::{ControlPlane, Error, Result, layout};

fn location<'a>(server_id: &'a ServerId, id: &'a str) -> Location<'a> {
    Location {
        kind: "issue",
        container: layout::ISSUES,
        partition_key: &server_id.0,
        id,
    }
}

impl ControlPlane {
    /// Creates an issue; returns `false` when one with its id exists.
    pub async fn create_issue(&self, issue: &Issue) -> Result<bool> {
        let id = issue.id.to_string();
        match self
            .store
            .create_typed(layout::ISSUES, &issue.server_id.0, &id, issue)
            .await
        {
            Ok(_) => Ok(true),
            Err(store::Error::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn issue(&self, server_id: &ServerId, id: IssueId) -> Result<Issue> {
        Ok(location(server_id, &id.to_string())
            .read(&*self.store)
            .await?
            .value)
    }

    /// Finds an issue by id alone, looking through every server's partition.
    pub async fn find_issue(&self, id: IssueId) -> Result<Issue> {
        let key = id.to_string();
        for server in self.servers().await? {
            if let Some(issue) = location(&server.id, &key)
                .read_optional(&*self.store)
                .await?
            {
                return Ok(issue.value);
            }
        }
        Err(Error::NotFound {
            kind: "issue",
            id: key,
        })
    }

    pub async fn update_issue<F>(
        &self,
        server_id: &ServerId,
        id: IssueId,
        change: F,
    ) -> Result<Issue>
    where
        F: FnMut(&mut Issue) -> bool,
    {
        location(server_id, &id.to_string())
            .update(&*self.store, change)
            .await
    }

    /// Issues of a server, newest first.
    pub async fn issues(&self, server_id: &ServerId) -> Result<Vec<Issue>> {
        let documents = self
            .store
            .query_typed(layout::ISSUES, &server_id.0, &Query::new())
            .await?;
        let mut values: Vec<Issue> = documents
            .into_iter()
            .map(|document| document.value)
            .collect();
        // Sorted here: RFC 3339 strings with varying fractional digits do not sort as times.
        values.sort_by_key(|value| std::cmp::Reverse(value.created_at));
        Ok(values)
    }
}
