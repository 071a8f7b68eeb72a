//! Checks on names and bodies that every implementation applies before touching its backend.
//!
//! The rules are those of Cosmos DB, the strictest backend the trait is meant for, so that data
//! written through `PgStore` can move to Cosmos DB unchanged.

use serde_json::Value;

use crate::document::DocumentKey;
use crate::error::Error;

/// Characters that Cosmos DB rejects in resource ids, because ids become URL path segments.
/// Source: the `Id` property documentation of the Azure Cosmos DB .NET SDK.
const RESERVED_CHARACTERS: [char; 4] = ['/', '\\', '?', '#'];

/// Cosmos DB's maximum item id length, applied to partition keys as well.
const MAX_KEY_BYTES: usize = 1023;

/// Keeps container, partition key and id together under PostgreSQL's limit for one btree index
/// entry (2704 bytes with 8 kB pages), which the primary key of the documents table must obey.
const MAX_CONTAINER_BYTES: usize = 255;

pub fn container_name(container: &str) -> Result<(), Error> {
    resource_id("container name", container, MAX_CONTAINER_BYTES)
}

pub fn document_key(container: &str, partition_key: &str, id: &str) -> Result<(), Error> {
    container_name(container)?;
    self::partition_key(partition_key)?;
    resource_id("document id", id, MAX_KEY_BYTES)
}

/// Partition keys are not Cosmos DB resource ids, so reserved characters are allowed in them.
pub fn partition_key(partition_key: &str) -> Result<(), Error> {
    if partition_key.is_empty() {
        return Err(invalid("partition key", partition_key, "it is empty"));
    }
    if partition_key.len() > MAX_KEY_BYTES {
        let reason = format!("it is longer than {MAX_KEY_BYTES} bytes");
        return Err(invalid("partition key", partition_key, reason));
    }
    Ok(())
}

/// Checks that a body is a JSON object whose `id` field, if present, equals the document id,
/// because a Cosmos DB item stores its id in that field.
pub fn body(key: &DocumentKey, body: &Value) -> Result<(), Error> {
    let Some(object) = body.as_object() else {
        return Err(invalid(
            "document body",
            &body.to_string(),
            "a document body must be a JSON object",
        ));
    };
    match object.get("id") {
        None => Ok(()),
        Some(Value::String(id)) if *id == key.id => Ok(()),
        Some(other) => Err(invalid(
            "document body",
            &format!("id: {other}"),
            "the body's id field must be absent or equal to the document id",
        )),
    }
}

fn resource_id(argument: &'static str, value: &str, max_bytes: usize) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(argument, value, "it is empty"));
    }
    if value.len() > max_bytes {
        let reason = format!("it is longer than {max_bytes} bytes");
        return Err(invalid(argument, value, reason));
    }
    if value.contains(RESERVED_CHARACTERS) {
        return Err(invalid(argument, value, "it contains one of / \\ ? #"));
    }
    Ok(())
}

fn invalid(argument: &'static str, value: &str, reason: impl Into<String>) -> Error {
    // Long values are cut so that an error message stays readable.
    let value = value.chars().take(80).collect();
    Error::InvalidArgument {
        argument,
        value,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key() -> DocumentKey {
        DocumentKey::new("runs", "server-1", "run-1")
    }

    #[test]
    fn plain_names_are_accepted() {
        assert!(document_key("runs", "server-1", "run-1").is_ok());
    }

    #[test]
    fn empty_id_is_rejected() {
        assert!(document_key("runs", "server-1", "").is_err());
    }

    #[test]
    fn empty_partition_key_is_rejected() {
        assert!(document_key("runs", "", "run-1").is_err());
    }

    #[test]
    fn reserved_characters_are_rejected() {
        for id in ["a/b", "a\\b", "a?b", "a#b"] {
            assert!(document_key("runs", "p", id).is_err(), "{id}");
        }
    }

    #[test]
    fn overlong_container_name_is_rejected() {
        let container = "c".repeat(256);

        assert!(container_name(&container).is_err());
    }

    #[test]
    fn slash_in_container_name_is_rejected() {
        assert!(container_name("runs/old").is_err());
    }

    #[test]
    fn overlong_id_is_rejected() {
        let id = "x".repeat(1024);

        assert!(document_key("runs", "p", &id).is_err());
    }

    #[test]
    fn id_of_maximum_length_is_accepted() {
        let id = "x".repeat(1023);

        assert!(document_key("runs", "p", &id).is_ok());
    }

    #[test]
    fn non_object_body_is_rejected() {
        assert!(body(&key(), &json!([1, 2])).is_err());
    }

    #[test]
    fn body_with_matching_id_is_accepted() {
        assert!(body(&key(), &json!({"id": "run-1", "state": "queued"})).is_ok());
    }

    #[test]
    fn body_with_other_id_is_rejected() {
        assert!(body(&key(), &json!({"id": "run-2"})).is_err());
    }

    #[test]
    fn body_with_numeric_id_is_rejected() {
        assert!(body(&key(), &json!({"id": 1})).is_err());
    }
}
