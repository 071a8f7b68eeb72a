//! Standing permissions, partitioned by the server they cover.

use chrono::{DateTime, Utc};
use contracts::{Instruction, InstructionId, ServerId};
use store::{DocumentStoreExt, Query};

use crate::versioned::Location;
use crate::{ControlPlane, Error, Result, layout};

fn location<'a>(server_id: &'a ServerId, id: &'a str) -> Location<'a> {
    Location {
        kind: "instruction",
        container: layout::INSTRUCTIONS,
        partition_key: &server_id.0,
        id,
    }
}

impl ControlPlane {
    /// Records an instruction; returns `false` when one with its id exists.
    pub async fn create_instruction(&self, instruction: &Instruction) -> Result<bool> {
        let id = instruction.id.to_string();
        let partition = &instruction.scope.server_id.0;
        match self
            .store
            .create_typed(layout::INSTRUCTIONS, partition, &id, instruction)
            .await
        {
            Ok(_) => Ok(true),
            Err(store::Error::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Instructions covering a server, newest first, including revoked and expired ones.
    pub async fn instructions(&self, server_id: &ServerId) -> Result<Vec<Instruction>> {
        let documents = self
            .store
            .query_typed(layout::INSTRUCTIONS, &server_id.0, &Query::new())
            .await?;
        let mut values: Vec<Instruction> = documents
            .into_iter()
            .map(|document| document.value)
            .collect();
        // Sorted here: RFC 3339 strings with varying fractional digits do not sort as times.
        values.sort_by_key(|value| std::cmp::Reverse(value.created_at));
        Ok(values)
    }

    /// Finds an instruction by id alone, looking through every server's partition.
    pub async fn find_instruction(&self, id: InstructionId) -> Result<Instruction> {
        let key = id.to_string();
        for server in self.servers().await? {
            if let Some(found) = location(&server.id, &key)
                .read_optional(&*self.store)
                .await?
            {
                return Ok(found.value);
            }
        }
        Err(Error::NotFound {
            kind: "instruction",
            id: key,
        })
    }

    /// Revokes an instruction; revoking a revoked one keeps the first revocation.
    pub async fn revoke_instruction(
        &self,
        server_id: &ServerId,
        id: InstructionId,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Instruction> {
        location(server_id, &id.to_string())
            .update(&*self.store, |instruction: &mut Instruction| {
                if instruction.revoked_at.is_some() {
                    return false;
                }
                instruction.revoked_at = Some(at);
                instruction.revoked_by = Some(by.to_string());
                true
            })
            .await
    }
}
