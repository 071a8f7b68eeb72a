//! Cases for single-document operations: create, read, replace, upsert, delete.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::fresh_container;
use crate::{DocumentStore, DocumentStoreExt, ETag, Error, Query};

pub async fn create_then_read_returns_body_and_etag(store: &dyn DocumentStore) {
    let container = fresh_container(store, "round-trip").await;
    let body = json!({"state": "queued", "attempt": 1, "tags": ["a", "b"], "note": null});

    let etag = store
        .create(&container, "p1", "doc-1", &body)
        .await
        .unwrap();
    let document = store.read(&container, "p1", "doc-1").await.unwrap();

    assert_eq!(document.id, "doc-1");
    assert_eq!(document.partition_key, "p1");
    assert_eq!(document.body, body);
    assert_eq!(document.etag, etag);
}

pub async fn create_with_taken_id_conflicts(store: &dyn DocumentStore) {
    let container = fresh_container(store, "conflict").await;
    store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();

    let result = store
        .create(&container, "p1", "doc-1", &json!({"v": 2}))
        .await;
    let stored = store.read(&container, "p1", "doc-1").await.unwrap();

    assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}");
    assert_eq!(stored.body, json!({"v": 1}));
}

pub async fn read_of_missing_document_is_not_found(store: &dyn DocumentStore) {
    let container = fresh_container(store, "read-missing").await;

    let result = store.read(&container, "p1", "absent").await;

    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

pub async fn replace_with_matching_etag_succeeds(store: &dyn DocumentStore) {
    let container = fresh_container(store, "replace").await;
    let first = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();

    let second = store
        .replace(&container, "p1", "doc-1", &json!({"v": 2}), &first)
        .await
        .unwrap();
    let stored = store.read(&container, "p1", "doc-1").await.unwrap();

    assert_ne!(second, first);
    assert_eq!(stored.etag, second);
    assert_eq!(stored.body, json!({"v": 2}));
}

pub async fn replace_with_stale_etag_is_rejected(store: &dyn DocumentStore) {
    let container = fresh_container(store, "replace-stale").await;
    let stale = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();
    let current = store
        .replace(&container, "p1", "doc-1", &json!({"v": 2}), &stale)
        .await
        .unwrap();

    let result = store
        .replace(&container, "p1", "doc-1", &json!({"v": 3}), &stale)
        .await;
    let stored = store.read(&container, "p1", "doc-1").await.unwrap();

    assert!(
        matches!(&result, Err(Error::PreconditionFailed { expected, .. }) if *expected == stale),
        "{result:?}"
    );
    assert_eq!(stored.etag, current);
    assert_eq!(stored.body, json!({"v": 2}));
}

pub async fn replace_of_missing_document_is_not_found(store: &dyn DocumentStore) {
    let container = fresh_container(store, "replace-missing").await;

    let result = store
        .replace(&container, "p1", "absent", &json!({}), &ETag::new("any"))
        .await;

    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

pub async fn replace_of_deleted_document_is_not_found(store: &dyn DocumentStore) {
    let container = fresh_container(store, "replace-deleted").await;
    let etag = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();
    store.delete(&container, "p1", "doc-1", None).await.unwrap();

    let result = store
        .replace(&container, "p1", "doc-1", &json!({"v": 2}), &etag)
        .await;

    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

pub async fn delete_with_matching_etag_removes_document(store: &dyn DocumentStore) {
    let container = fresh_container(store, "delete-etag").await;
    let etag = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();

    store
        .delete(&container, "p1", "doc-1", Some(&etag))
        .await
        .unwrap();
    let result = store.read(&container, "p1", "doc-1").await;

    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

pub async fn delete_with_stale_etag_is_rejected(store: &dyn DocumentStore) {
    let container = fresh_container(store, "delete-stale").await;
    let stale = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();
    store
        .upsert(&container, "p1", "doc-1", &json!({"v": 2}))
        .await
        .unwrap();

    let result = store.delete(&container, "p1", "doc-1", Some(&stale)).await;
    let stored = store.read(&container, "p1", "doc-1").await;

    assert!(
        matches!(result, Err(Error::PreconditionFailed { .. })),
        "{result:?}"
    );
    assert!(stored.is_ok(), "{stored:?}");
}

pub async fn delete_without_etag_removes_document(store: &dyn DocumentStore) {
    let container = fresh_container(store, "delete").await;
    store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();

    store.delete(&container, "p1", "doc-1", None).await.unwrap();
    let result = store.read(&container, "p1", "doc-1").await;

    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

pub async fn delete_of_missing_document_is_not_found(store: &dyn DocumentStore) {
    let container = fresh_container(store, "delete-missing").await;

    let without_etag = store.delete(&container, "p1", "absent", None).await;
    let with_etag = store
        .delete(&container, "p1", "absent", Some(&ETag::new("any")))
        .await;

    assert!(
        matches!(without_etag, Err(Error::NotFound { .. })),
        "{without_etag:?}"
    );
    assert!(
        matches!(with_etag, Err(Error::NotFound { .. })),
        "{with_etag:?}"
    );
}

pub async fn deleted_id_can_be_created_again(store: &dyn DocumentStore) {
    let container = fresh_container(store, "recreate").await;
    let old = store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();
    store.delete(&container, "p1", "doc-1", None).await.unwrap();

    let new = store
        .create(&container, "p1", "doc-1", &json!({"v": 2}))
        .await
        .unwrap();
    let stored = store.read(&container, "p1", "doc-1").await.unwrap();

    assert_ne!(new, old);
    assert_eq!(stored.body, json!({"v": 2}));
}

pub async fn upsert_creates_then_overwrites(store: &dyn DocumentStore) {
    let container = fresh_container(store, "upsert").await;

    let first = store
        .upsert(&container, "p1", "status", &json!({"healthy": true}))
        .await
        .unwrap();
    let created = store.read(&container, "p1", "status").await.unwrap();
    let second = store
        .upsert(&container, "p1", "status", &json!({"healthy": false}))
        .await
        .unwrap();
    let overwritten = store.read(&container, "p1", "status").await.unwrap();

    assert_eq!(created.body, json!({"healthy": true}));
    assert_eq!(created.etag, first);
    assert_ne!(second, first);
    assert_eq!(overwritten.body, json!({"healthy": false}));
    assert_eq!(overwritten.etag, second);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Probe {
    id: String,
    state: String,
    attempts: u32,
}

pub async fn typed_helpers_round_trip_structs(store: &dyn DocumentStore) {
    let container = fresh_container(store, "typed").await;
    let mut probe = Probe {
        id: "probe-1".into(),
        state: "queued".into(),
        attempts: 0,
    };

    let etag = store
        .create_typed(&container, "p1", "probe-1", &probe)
        .await
        .unwrap();
    probe.attempts = 1;
    let etag = store
        .replace_typed(&container, "p1", "probe-1", &probe, &etag)
        .await
        .unwrap();
    let read = store
        .read_typed::<Probe>(&container, "p1", "probe-1")
        .await
        .unwrap();

    assert_eq!(read.value, probe);
    assert_eq!(read.etag, etag);
    assert_eq!(read.id, "probe-1");
    assert_eq!(read.partition_key, "p1");
}

pub async fn invalid_arguments_are_rejected(store: &dyn DocumentStore) {
    let container = fresh_container(store, "invalid").await;

    let array_body = store.create(&container, "p1", "doc-1", &json!([1])).await;
    let slash_id = store.create(&container, "p1", "a/b", &json!({})).await;
    let other_id = store
        .create(&container, "p1", "doc-1", &json!({"id": "doc-2"}))
        .await;
    let empty_partition = store.read(&container, "", "doc-1").await;
    let empty_partition_query = store.query(&container, "", &Query::new()).await;

    for result in [array_body, slash_id, other_id] {
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "{result:?}"
        );
    }
    assert!(
        matches!(empty_partition, Err(Error::InvalidArgument { .. })),
        "{empty_partition:?}"
    );
    assert!(
        matches!(empty_partition_query, Err(Error::InvalidArgument { .. })),
        "{empty_partition_query:?}"
    );
}

pub async fn error_messages_name_the_document(store: &dyn DocumentStore) {
    let container = fresh_container(store, "messages").await;

    let error = store
        .read(&container, "partition-x", "doc-y")
        .await
        .unwrap_err();
    let message = error.to_string();

    assert!(message.contains(&container), "{message}");
    assert!(message.contains("partition-x"), "{message}");
    assert!(message.contains("doc-y"), "{message}");
}
