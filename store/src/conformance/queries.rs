//! Cases for queries and partition isolation.

use serde_json::{Value, json};

use super::fresh_container;
use crate::{Document, DocumentStore, Query, SortDirection};

fn ids(documents: &[Document]) -> Vec<&str> {
    documents
        .iter()
        .map(|document| document.id.as_str())
        .collect()
}

fn sorted_ids(documents: &[Document]) -> Vec<&str> {
    let mut ids = ids(documents);
    ids.sort_unstable();
    ids
}

async fn insert_all(store: &dyn DocumentStore, container: &str, partition: &str, docs: &[Value]) {
    for body in docs {
        let id = body["id"].as_str().expect("test documents carry an id");
        store.create(container, partition, id, body).await.unwrap();
    }
}

pub async fn query_filters_by_equality(store: &dyn DocumentStore) {
    let container = fresh_container(store, "filter").await;
    insert_all(
        store,
        &container,
        "p1",
        &[
            json!({"id": "a", "state": "queued", "server": "s1"}),
            json!({"id": "b", "state": "running", "server": "s1"}),
            json!({"id": "c", "state": "queued", "server": "s2"}),
            json!({"id": "d", "server": "s1"}),
        ],
    )
    .await;

    let queued = Query::new().filter_eq("state", "queued");
    let queued_on_s1 = queued.clone().filter_eq("server", "s1");
    let none = Query::new().filter_eq("state", "done");
    let queued = store.query(&container, "p1", &queued).await.unwrap();
    let queued_on_s1 = store.query(&container, "p1", &queued_on_s1).await.unwrap();
    let none = store.query(&container, "p1", &none).await.unwrap();

    assert_eq!(sorted_ids(&queued), ["a", "c"]);
    assert_eq!(ids(&queued_on_s1), ["a"]);
    assert!(none.is_empty(), "{none:?}");
}

pub async fn query_filter_compares_json_values(store: &dyn DocumentStore) {
    let container = fresh_container(store, "filter-types").await;
    insert_all(
        store,
        &container,
        "p1",
        &[
            json!({"id": "a", "n": 1, "flag": true, "extra": null, "meta": {"k": 1}}),
            json!({"id": "b", "n": "1", "flag": false, "meta": {"k": 2}}),
        ],
    )
    .await;

    let number = Query::new().filter_eq("n", 1);
    let float = Query::new().filter_eq("n", 1.0);
    let string = Query::new().filter_eq("n", "1");
    let boolean = Query::new().filter_eq("flag", false);
    let null = Query::new().filter_eq("extra", Value::Null);
    let object = Query::new().filter_eq("meta", json!({"k": 2}));
    let number = store.query(&container, "p1", &number).await.unwrap();
    let float = store.query(&container, "p1", &float).await.unwrap();
    let string = store.query(&container, "p1", &string).await.unwrap();
    let boolean = store.query(&container, "p1", &boolean).await.unwrap();
    let null = store.query(&container, "p1", &null).await.unwrap();
    let object = store.query(&container, "p1", &object).await.unwrap();

    assert_eq!(ids(&number), ["a"]);
    assert_eq!(ids(&float), ["a"]);
    assert_eq!(ids(&string), ["b"]);
    assert_eq!(ids(&boolean), ["b"]);
    assert_eq!(ids(&null), ["a"]);
    assert_eq!(ids(&object), ["b"]);
}

pub async fn query_field_names_are_bound_as_data(store: &dyn DocumentStore) {
    let container = fresh_container(store, "field-names").await;
    let field = "it's \"quoted\"; DROP TABLE x; --";
    let mut body = json!({"id": "a"});
    body[field] = json!("yes");
    store.create(&container, "p1", "a", &body).await.unwrap();

    let query = Query::new()
        .filter_eq(field, "yes")
        .order_by(field, SortDirection::Ascending);
    let found = store.query(&container, "p1", &query).await.unwrap();

    assert_eq!(ids(&found), ["a"]);
}

pub async fn query_orders_by_field(store: &dyn DocumentStore) {
    let container = fresh_container(store, "order").await;
    insert_all(
        store,
        &container,
        "p1",
        &[
            json!({"id": "a", "rank": 10}),
            json!({"id": "b", "rank": 2}),
            json!({"id": "c", "rank": 33}),
        ],
    )
    .await;

    let ascending = Query::new().order_by("rank", SortDirection::Ascending);
    let descending = Query::new().order_by("rank", SortDirection::Descending);
    let ascending = store.query(&container, "p1", &ascending).await.unwrap();
    let descending = store.query(&container, "p1", &descending).await.unwrap();

    // Numeric order: 2 < 10 < 33, where text order would put 10 first.
    assert_eq!(ids(&ascending), ["b", "a", "c"]);
    assert_eq!(ids(&descending), ["c", "a", "b"]);
}

pub async fn query_limit_caps_results(store: &dyn DocumentStore) {
    let container = fresh_container(store, "limit").await;
    insert_all(
        store,
        &container,
        "p1",
        &[
            json!({"id": "a", "at": 3}),
            json!({"id": "b", "at": 1}),
            json!({"id": "c", "at": 2}),
            json!({"id": "d", "at": 4}),
        ],
    )
    .await;

    let newest_two = Query::new()
        .order_by("at", SortDirection::Descending)
        .limit(2);
    let beyond = Query::new().limit(10);
    let newest_two = store.query(&container, "p1", &newest_two).await.unwrap();
    let beyond = store.query(&container, "p1", &beyond).await.unwrap();

    assert_eq!(ids(&newest_two), ["d", "a"]);
    assert_eq!(beyond.len(), 4);
}

pub async fn query_of_empty_partition_is_empty(store: &dyn DocumentStore) {
    let container = fresh_container(store, "empty").await;

    let found = store
        .query(&container, "nobody", &Query::new())
        .await
        .unwrap();

    assert!(found.is_empty(), "{found:?}");
}

pub async fn same_id_in_two_partitions_is_two_documents(store: &dyn DocumentStore) {
    let container = fresh_container(store, "partitions").await;
    let in_p1 = store
        .create(&container, "p1", "shared", &json!({"owner": "p1"}))
        .await
        .unwrap();
    store
        .create(&container, "p2", "shared", &json!({"owner": "p2"}))
        .await
        .unwrap();

    store
        .replace(
            &container,
            "p1",
            "shared",
            &json!({"owner": "p1-new"}),
            &in_p1,
        )
        .await
        .unwrap();
    store
        .delete(&container, "p2", "shared", None)
        .await
        .unwrap();
    let p1 = store.read(&container, "p1", "shared").await;
    let p2 = store.read(&container, "p2", "shared").await;

    assert_eq!(p1.unwrap().body, json!({"owner": "p1-new"}));
    assert!(p2.is_err(), "{p2:?}");
}

pub async fn query_stays_within_partition(store: &dyn DocumentStore) {
    let container = fresh_container(store, "query-partition").await;
    let body = json!({"state": "queued"});
    store.create(&container, "p1", "a", &body).await.unwrap();
    store.create(&container, "p2", "b", &body).await.unwrap();
    store.create(&container, "p2", "c", &body).await.unwrap();

    let query = Query::new().filter_eq("state", "queued");
    let p1 = store.query(&container, "p1", &query).await.unwrap();
    let p2 = store.query(&container, "p2", &query).await.unwrap();

    assert_eq!(ids(&p1), ["a"]);
    assert_eq!(sorted_ids(&p2), ["b", "c"]);
    assert!(p2.iter().all(|document| document.partition_key == "p2"));
}
