//! Cases for containers and for concurrent writers.

use futures::future::join_all;
use serde_json::json;

use super::fresh_container;
use crate::{DocumentStore, ETag, Error, Query};

/// Writers racing in the concurrency cases; enough to overlap on a pool of a few connections.
const RACERS: usize = 8;

pub async fn create_container_is_idempotent(store: &dyn DocumentStore) {
    let container = fresh_container(store, "idempotent").await;
    store
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();

    let again = store.create_container(&container).await;
    let document = store.read(&container, "p1", "doc-1").await;

    assert!(again.is_ok(), "{again:?}");
    assert!(document.is_ok(), "{document:?}");
}

fn is_container_not_found<T>(result: &Result<T, Error>, name: &str) -> bool {
    matches!(result, Err(Error::ContainerNotFound { container }) if container == name)
}

pub async fn missing_container_is_reported_by_every_operation(store: &dyn DocumentStore) {
    let name = format!(
        "conformance-never-created-{}",
        uuid::Uuid::new_v4().simple()
    );
    let body = json!({"v": 1});
    let etag = ETag::new("any");

    let create = store.create(&name, "p1", "doc-1", &body).await;
    let read = store.read(&name, "p1", "doc-1").await;
    let replace = store.replace(&name, "p1", "doc-1", &body, &etag).await;
    let upsert = store.upsert(&name, "p1", "doc-1", &body).await;
    let delete = store.delete(&name, "p1", "doc-1", None).await;
    let query = store.query(&name, "p1", &Query::new()).await;

    assert!(is_container_not_found(&create, &name), "{create:?}");
    assert!(is_container_not_found(&read, &name), "{read:?}");
    assert!(is_container_not_found(&replace, &name), "{replace:?}");
    assert!(is_container_not_found(&upsert, &name), "{upsert:?}");
    assert!(is_container_not_found(&delete, &name), "{delete:?}");
    assert!(is_container_not_found(&query, &name), "{query:?}");
    let message = read.unwrap_err().to_string();
    assert!(message.contains(&name), "{message}");
}

pub async fn concurrent_replaces_have_one_winner(store: &dyn DocumentStore) {
    let container = fresh_container(store, "race-replace").await;
    let etag = store
        .create(&container, "p1", "doc-1", &json!({"writer": null}))
        .await
        .unwrap();

    let attempts = (0..RACERS).map(|writer| {
        let body = json!({"writer": writer});
        let (container, etag) = (&container, &etag);
        async move {
            let result = store.replace(container, "p1", "doc-1", &body, etag).await;
            (writer, result)
        }
    });
    let results = join_all(attempts).await;
    let stored = store.read(&container, "p1", "doc-1").await.unwrap();

    let winners: Vec<_> = results
        .iter()
        .filter(|(_, result)| result.is_ok())
        .collect();
    let rejected = results
        .iter()
        .filter(|(_, result)| matches!(result, Err(Error::PreconditionFailed { .. })))
        .count();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(rejected, RACERS - 1, "{results:?}");
    let (winner, winning_etag) = winners[0];
    assert_eq!(stored.body, json!({"writer": winner}));
    assert_eq!(&stored.etag, winning_etag.as_ref().unwrap());
}

pub async fn concurrent_creates_have_one_winner(store: &dyn DocumentStore) {
    let container = fresh_container(store, "race-create").await;

    let attempts = (0..RACERS).map(|writer| {
        let body = json!({"writer": writer});
        let container = &container;
        async move { store.create(container, "p1", "doc-1", &body).await }
    });
    let results = join_all(attempts).await;

    let created = results.iter().filter(|result| result.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|result| matches!(result, Err(Error::Conflict { .. })))
        .count();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(conflicts, RACERS - 1, "{results:?}");
}
