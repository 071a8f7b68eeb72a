use super::*;
use crate::investigate::snapshot::TableName;
use crate::investigate::statement::parse_statement;

fn column(name: &str) -> FilterTarget {
    FilterTarget::Column(name.to_string())
}

fn table(indexes: Vec<ExistingIndex>) -> TableInfo {
    TableInfo {
        oid: 1,
        name: TableName {
            schema: "public".to_string(),
            name: "parcels".to_string(),
        },
        kind: "r".to_string(),
        columns: vec![
            (1, "id".to_string()),
            (2, "barcode".to_string()),
            (3, "zone".to_string()),
            (4, "email".to_string()),
        ],
        indexes,
    }
}

fn btree(keys: Vec<ExistingKey>) -> ExistingIndex {
    ExistingIndex {
        name: "existing".to_string(),
        method: "btree".to_string(),
        valid: true,
        partial: false,
        keys,
    }
}

fn candidates_for(query: &str) -> Vec<Vec<FilterTarget>> {
    let parsed = parse_statement(query).unwrap();
    let filters: Vec<&Filter> = parsed.filters.iter().collect();
    build_candidates(&filters, 3)
}

#[test]
fn equality_keys_come_before_the_range_key() {
    let candidates =
        candidates_for("SELECT * FROM parcels WHERE sent > $1 AND zone = $2 AND barcode = $3");
    assert_eq!(candidates[0], vec![column("zone")]);
    assert!(candidates.contains(&vec![column("zone"), column("barcode"), column("sent")]));
    assert!(candidates.contains(&vec![column("sent")]));
    assert!(
        !candidates
            .iter()
            .any(|keys| keys[0] == column("sent") && keys.len() > 1)
    );
    assert!(candidates.iter().all(|keys| keys.len() <= 3));
}

#[test]
fn single_filter_gives_single_candidate() {
    let candidates = candidates_for("SELECT * FROM parcels WHERE barcode = $1");
    assert_eq!(candidates, vec![vec![column("barcode")]]);
}

#[test]
fn existing_index_and_its_prefix_are_covered() {
    let info = table(vec![btree(vec![
        ExistingKey::Column(2),
        ExistingKey::Column(3),
    ])]);
    assert!(covering_index(&info, &[column("barcode")]).is_some());
    assert!(covering_index(&info, &[column("barcode"), column("zone")]).is_some());
    assert!(covering_index(&info, &[column("zone")]).is_none());
    assert!(covering_index(&info, &[column("barcode"), column("id")]).is_none());
}

#[test]
fn invalid_partial_and_gist_indexes_do_not_cover() {
    let mut invalid = btree(vec![ExistingKey::Column(2)]);
    invalid.valid = false;
    let mut partial = btree(vec![ExistingKey::Column(2)]);
    partial.partial = true;
    let mut gist = btree(vec![ExistingKey::Column(2)]);
    gist.method = "gist".to_string();
    let info = table(vec![invalid, partial, gist]);
    assert!(covering_index(&info, &[column("barcode")]).is_none());
}

#[test]
fn plain_index_does_not_cover_expression() {
    let info = table(vec![btree(vec![ExistingKey::Column(4)])]);
    let lower = FilterTarget::Expression {
        sql: "lower(email)".to_string(),
        columns: vec!["email".to_string()],
    };
    assert!(covering_index(&info, std::slice::from_ref(&lower)).is_none());

    let expression_index = btree(vec![ExistingKey::Expression(
        canonical_expression("lower(email)").unwrap(),
    )]);
    let info = table(vec![expression_index]);
    assert!(covering_index(&info, &[lower]).is_some());
}

#[test]
fn filters_go_to_the_table_with_the_column() {
    let parsed = parse_statement("SELECT * FROM parcels, depots WHERE barcode = $1").unwrap();
    let parcels = table(Vec::new());
    let mut depots = table(Vec::new());
    depots.oid = 2;
    depots.columns = vec![(1, "id".to_string()), (2, "city".to_string())];
    let tables = vec![Some(parcels.clone()), Some(depots.clone())];
    assert_eq!(filters_for_table(&parsed, &tables, &parcels).len(), 1);
    assert!(filters_for_table(&parsed, &tables, &depots).is_empty());
}

#[test]
fn keys_describe_and_convert() {
    let keys = vec![
        column("zone"),
        FilterTarget::Expression {
            sql: "lower(email)".to_string(),
            columns: vec!["email".to_string()],
        },
    ];
    assert_eq!(describe_keys(&keys), "(zone, lower(email))");
    let action = contracts::CreateIndex::new("public", "parcels", index_keys(&keys), None);
    assert_eq!(
        action.ddl,
        r#"CREATE INDEX CONCURRENTLY "idx_parcels_zone_lower_email" ON "public"."parcels" ("zone", (lower(email)))"#
    );
}
