use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version tag of a stored document, replaced by the store on every write.
///
/// Callers treat it as opaque: they compare it for equality and hand it back as an if-match
/// condition, but never parse it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ETag(String);

impl ETag {
    pub fn new(value: impl Into<String>) -> ETag {
        ETag(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored document with the ETag of the version that was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    pub partition_key: String,
    /// The JSON object the caller wrote.
    pub body: Value,
    pub etag: ETag,
}

/// Address of one document: container, partition key and id.
///
/// Errors carry it so that their messages name the document involved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    pub container: String,
    pub partition_key: String,
    pub id: String,
}

impl DocumentKey {
    pub fn new(container: &str, partition_key: &str, id: &str) -> DocumentKey {
        DocumentKey {
            container: container.to_owned(),
            partition_key: partition_key.to_owned(),
            id: id.to_owned(),
        }
    }
}

impl fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "document {:?} in partition {:?} of container {:?}",
            self.id, self.partition_key, self.container
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_key_display_names_all_parts() {
        let key = DocumentKey::new("runs", "server-1", "run-7");

        let text = key.to_string();

        assert!(text.contains("\"runs\""), "{text}");
        assert!(text.contains("\"server-1\""), "{text}");
        assert!(text.contains("\"run-7\""), "{text}");
    }

    #[test]
    fn etag_serializes_as_plain_string() {
        let etag = ETag::new("abc");

        let json = serde_json::to_value(&etag).unwrap();

        assert_eq!(json, Value::String("abc".into()));
    }
}
