//! Investigations that must name tables exactly: schemas that differ only in case, quoted
//! mixed-case and reserved identifiers, a table found through the session's search_path, and a
//! table that belongs to another role.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{InvestigateOptions, Verdict, investigate};
use tokio_postgres::Client;

/// Four tables of 100,000 rows each, none indexed on the filtered column: `sales.orders` and
/// `"Sales".orders`, `"Book"` with mixed-case columns, and `t` whose columns are reserved
/// words. Each equality filter keeps about 100 rows, so a sequential scan is the only plan
/// without an index and an index scan the best with one, at any size past the small-table
/// limit.
const QUOTED_SCHEMA: &str = r#"
    CREATE SCHEMA sales;
    CREATE SCHEMA "Sales";
    CREATE TABLE sales.orders (
        id bigserial PRIMARY KEY, customer_ref int NOT NULL, region int NOT NULL);
    CREATE TABLE "Sales".orders (
        id bigserial PRIMARY KEY, customer_ref int NOT NULL, region int NOT NULL);
    INSERT INTO sales.orders (customer_ref, region)
    SELECT g % 1000, g % 997 FROM generate_series(1, 100000) AS g;
    INSERT INTO "Sales".orders (customer_ref, region)
    SELECT g % 1000, g % 997 FROM generate_series(1, 100000) AS g;
    CREATE TABLE "Book" ("Id" bigserial PRIMARY KEY, "AuthorRef" int NOT NULL, "Title" text);
    INSERT INTO "Book" ("AuthorRef", "Title")
    SELECT g % 1000, 'title ' || g FROM generate_series(1, 100000) AS g;
    CREATE TABLE t (id bigserial PRIMARY KEY, "do" int NOT NULL, "order" int NOT NULL);
    INSERT INTO t ("do", "order") SELECT g % 7, g % 1000 FROM generate_series(1, 100000) AS g;
    ANALYZE sales.orders, "Sales".orders, "Book", t;"#;

/// A statement of the workload, the DDL expected for it, and the index it creates.
struct Expected {
    statement: &'static str,
    ddl: &'static str,
    schema: &'static str,
    table: &'static str,
    index: &'static str,
}

const EXPECTED: [Expected; 3] = [
    Expected {
        statement: r#"SELECT id FROM "Sales".orders WHERE region = $1"#,
        ddl: r#"CREATE INDEX CONCURRENTLY "idx_orders_region" ON "Sales"."orders" ("region")"#,
        schema: "Sales",
        table: "orders",
        index: "idx_orders_region",
    },
    Expected {
        statement: r#"SELECT "Id", "Title" FROM "Book" WHERE "AuthorRef" = $1"#,
        ddl: r#"CREATE INDEX CONCURRENTLY "idx_Book_AuthorRef" ON "public"."Book" ("AuthorRef")"#,
        schema: "public",
        table: "Book",
        index: "idx_Book_AuthorRef",
    },
    Expected {
        statement: r#"SELECT id, "do" FROM t WHERE "order" = $1"#,
        ddl: r#"CREATE INDEX CONCURRENTLY "idx_t_order" ON "public"."t" ("order")"#,
        schema: "public",
        table: "t",
        index: "idx_t_order",
    },
];

/// Found through the client's search_path, which the runner's own does not reach.
const OFF_PATH: Expected = Expected {
    statement: "SELECT id FROM orders WHERE customer_ref = $1",
    ddl: r#"CREATE INDEX CONCURRENTLY "idx_orders_customer_ref" ON "sales"."orders" ("customer_ref")"#,
    schema: "sales",
    table: "orders",
    index: "idx_orders_customer_ref",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_identifiers_build_valid_indexes() {
    let database = "inv_identifiers";
    let client = support::database(database, QUOTED_SCHEMA).await;
    let key = |rng: &mut rand::rngs::StdRng| -> support::Params {
        vec![Box::new(rng.random_range(0..1000i32))]
    };
    let seconds = Duration::from_secs(4);
    let workloads = [
        support::spawn_workload(database, EXPECTED[0].statement, seconds, 400, key),
        support::spawn_workload(database, EXPECTED[1].statement, seconds, 400, key),
        support::spawn_workload(database, EXPECTED[2].statement, seconds, 400, key),
    ];
    let options = InvestigateOptions {
        top_statements: 10,
        ..support::options()
    };

    let investigation = investigate(&client, &options).await.unwrap();
    for workload in workloads {
        assert!(workload.await.unwrap() > 0);
    }

    for expected in &EXPECTED {
        let finding = support::finding_for(&investigation, expected.statement);
        println!(
            "{}: {:?}\n  {}",
            expected.statement, finding.verdict, finding.summary
        );
    }
    for expected in &EXPECTED {
        let finding = support::finding_for(&investigation, expected.statement);
        assert_eq!(support::proposed_ddl(finding), expected.ddl, "{finding:#?}");
        client.batch_execute(expected.ddl).await.unwrap();
        assert_index_valid(&client, expected).await;
    }
}

/// Both `sales.orders` and `"Sales".orders` exist, and the client reaches `sales.orders`
/// through its own search_path. Only that table is read in the window, so the engine takes
/// it as the table the unqualified name means.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unqualified_name_resolves_to_the_table_read() {
    let database = "inv_search_path";
    let client = support::database(database, QUOTED_SCHEMA).await;
    let key = |rng: &mut rand::rngs::StdRng| -> support::Params {
        vec![Box::new(rng.random_range(0..1000i32))]
    };
    // The unqualified name means sales.orders only on this connection.
    let workload = support::spawn_session_workload(
        database,
        "SET search_path = sales, public",
        OFF_PATH.statement,
        Duration::from_secs(4),
        400,
        key,
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&investigation, OFF_PATH.statement);
    println!("{:?}\n  {}", finding.verdict, finding.summary);
    assert_eq!(support::proposed_ddl(finding), OFF_PATH.ddl, "{finding:#?}");
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("search_path") && note.contains("sales.orders")),
        "{:#?}",
        finding.evidence.notes
    );
    client.batch_execute(OFF_PATH.ddl).await.unwrap();
    assert_index_valid(&client, &OFF_PATH).await;
}

/// Checks that the index exists in the expected schema, on the expected table, and is valid.
async fn assert_index_valid(client: &Client, expected: &Expected) {
    let row = client
        .query_opt(
            "SELECT t.relname::text, i.indisvalid
             FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = ic.relnamespace
             WHERE n.nspname = $1 AND ic.relname = $2",
            &[&expected.schema, &expected.index],
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no index {}.{}", expected.schema, expected.index));
    let table: String = row.get(0);
    let valid: bool = row.get(1);
    assert_eq!(table, expected.table, "{}", expected.ddl);
    assert!(valid, "{} left an invalid index", expected.ddl);
}

/// The role the investigation connects as. Roles are shared by every database of the
/// cluster, so the names belong to this test alone.
const RUNNER_ROLE: &str = "dbagent_runner_p17";
const RUNNER_PASSWORD: &str = "runner-p17-loopback-only";

/// 150,000 ledger entries in a schema of `ledger_owner`, readable by the runner's role, which
/// may read every session's statistics but owns nothing. The owner owns the schema too,
/// because CREATE INDEX also needs the CREATE privilege on the table's schema.
const LEDGER_SCHEMA: &str = "
    CREATE ROLE ledger_owner NOLOGIN;
    GRANT pg_read_all_stats TO dbagent_runner_p17;
    CREATE SCHEMA ledger AUTHORIZATION ledger_owner;
    CREATE TABLE ledger.entries (
        id bigserial PRIMARY KEY, account_ref bigint NOT NULL, amount numeric NOT NULL);
    INSERT INTO ledger.entries (account_ref, amount)
    SELECT g % 15000, g % 991 FROM generate_series(1, 150000) AS g;
    ANALYZE ledger.entries;
    ALTER TABLE ledger.entries OWNER TO ledger_owner;
    GRANT USAGE ON SCHEMA ledger TO dbagent_runner_p17;
    GRANT SELECT ON ledger.entries TO dbagent_runner_p17;";

const LEDGER_LOOKUP: &str = "SELECT id, amount FROM ledger.entries WHERE account_ref = $1";

fn ledger_workload(database: &str) -> tokio::task::JoinHandle<u64> {
    support::spawn_workload(
        database,
        LEDGER_LOOKUP,
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..15_000i64))],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_of_another_role_is_not_proposed() {
    let database = "inv_not_owner";
    let runner_role = format!("CREATE ROLE {RUNNER_ROLE} LOGIN PASSWORD '{RUNNER_PASSWORD}';");
    let admin = support::database(database, &format!("{runner_role}{LEDGER_SCHEMA}")).await;
    let runner = support::connect_as(database, RUNNER_ROLE, RUNNER_PASSWORD).await;

    let workload = ledger_workload(database);
    let refused = investigate(&runner, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&refused);
    let finding = support::finding_for(&refused, "account_ref = $1");
    println!("without membership: {:?}", finding.verdict);
    assert_eq!(
        finding.verdict,
        Verdict::NotOwner {
            table: "ledger.entries".into(),
            owner: "ledger_owner".into(),
            role: RUNNER_ROLE.into(),
        }
    );
    assert!(
        finding.summary.contains("ledger_owner"),
        "{}",
        finding.summary
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("never changes owners")),
        "{:#?}",
        finding.evidence.notes
    );
    let owner = table_owner(&admin).await;
    assert_eq!(owner, "ledger_owner", "the investigation changed the owner");

    admin
        .batch_execute("GRANT ledger_owner TO dbagent_runner_p17")
        .await
        .unwrap();
    let workload = ledger_workload(database);
    let allowed = investigate(&runner, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&allowed, "account_ref = $1");
    println!("with membership: {:?}", finding.verdict);
    let ddl = support::proposed_ddl(finding);
    assert_eq!(
        ddl,
        r#"CREATE INDEX CONCURRENTLY "idx_entries_account_ref" ON "ledger"."entries" ("account_ref")"#
    );
    // Membership in the owner's role is what CREATE INDEX needs, so the runner can build it.
    runner.batch_execute(ddl).await.unwrap();
    let valid: bool = admin
        .query_one(
            "SELECT indisvalid FROM pg_index
             WHERE indexrelid = 'ledger.idx_entries_account_ref'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(valid);

    drop(runner);
    admin
        .batch_execute(
            "DROP SCHEMA ledger CASCADE;
             DROP ROLE dbagent_runner_p17;
             DROP ROLE ledger_owner;",
        )
        .await
        .unwrap();
}

async fn table_owner(client: &Client) -> String {
    client
        .query_one(
            "SELECT pg_get_userbyid(relowner)::text FROM pg_class
             WHERE oid = 'ledger.entries'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}
