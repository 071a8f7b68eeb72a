//! The behaviour every [`DocumentStore`] implementation must show, as one public async function
//! per case.
//!
//! Each function creates its own containers with unique names, so all of them can run at once
//! against one store, including a persistent one that keeps containers from earlier runs. A
//! function panics with a message when the store misbehaves, which fails the calling test.
//!
//! [`document_store_conformance_tests!`](crate::document_store_conformance_tests) expands to one
//! `#[tokio::test]` per function.

mod containers;
mod documents;
mod queries;

use uuid::Uuid;

use crate::DocumentStore;

pub use containers::*;
pub use documents::*;
pub use queries::*;

/// Expands to one `#[tokio::test(flavor = "multi_thread")]` per conformance case.
///
/// The argument is an expression for an async function or closure without arguments that
/// returns a store behind a pointer, such as `Arc<dyn DocumentStore>` or `Box<PgStore>`. Each
/// test calls it once, so every test gets its own store and connection pool. The calling crate
/// needs `tokio` with the `macros` and `rt-multi-thread` features.
///
/// ```ignore
/// async fn pg_store() -> std::sync::Arc<dyn store::DocumentStore> {
///     std::sync::Arc::new(store::PgStore::connect(URL).await.unwrap())
/// }
///
/// store::document_store_conformance_tests!(pg_store);
/// ```
#[macro_export]
macro_rules! document_store_conformance_tests {
    ($make_store:expr) => {
        $crate::__conformance_tests!(
            $make_store;
            create_then_read_returns_body_and_etag,
            create_with_taken_id_conflicts,
            read_of_missing_document_is_not_found,
            replace_with_matching_etag_succeeds,
            replace_with_stale_etag_is_rejected,
            replace_of_missing_document_is_not_found,
            replace_of_deleted_document_is_not_found,
            delete_with_matching_etag_removes_document,
            delete_with_stale_etag_is_rejected,
            delete_without_etag_removes_document,
            delete_of_missing_document_is_not_found,
            deleted_id_can_be_created_again,
            upsert_creates_then_overwrites,
            typed_helpers_round_trip_structs,
            invalid_arguments_are_rejected,
            error_messages_name_the_document,
            query_filters_by_equality,
            query_filter_compares_json_values,
            query_field_names_are_bound_as_data,
            query_orders_by_field,
            query_limit_caps_results,
            query_of_empty_partition_is_empty,
            same_id_in_two_partitions_is_two_documents,
            query_stays_within_partition,
            create_container_is_idempotent,
            missing_container_is_reported_by_every_operation,
            concurrent_replaces_have_one_winner,
            concurrent_creates_have_one_winner,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($make_store:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let store = ($make_store)().await;
                $crate::conformance::$case(&*store).await;
            }
        )+
    };
}

/// Creates a container whose name no other case or earlier run uses.
async fn fresh_container(store: &dyn DocumentStore, label: &str) -> String {
    let name = format!("conformance-{label}-{}", Uuid::new_v4().simple());
    store
        .create_container(&name)
        .await
        .unwrap_or_else(|error| panic!("failed to create container {name:?}: {error}"));
    name
}
