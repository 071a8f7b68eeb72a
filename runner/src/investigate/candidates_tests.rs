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
        owner: "app".to_string(),
        may_build: true,
        role: "app".to_string(),
        partition_of: None,
        partitions: Vec::new(),
        columns: vec![
            (1, "id".to_string()),
            (2, "barcode".to_string()),
            (3, "zone".to_string()),
            (4, "email".to_string()),
            (5, "sent".to_string()),
        ],
        indexes,
    }
}

fn btree(keys: Vec<ExistingKey>) -> ExistingIndex {
    ExistingIndex {
        name: "existing".to_string(),
        method: "btree".to_string(),
        valid: true,
        predicate: None,
        default_operator_classes: true,
        descending: vec![false; keys.len()],
        keys,
    }
}

fn plain(targets: &[FilterTarget]) -> Candidate {
    Candidate::plain(targets.to_vec())
}

/// Returns the candidates' keys as targets, for candidates without predicate or direction.
fn candidates_for(query: &str) -> Vec<Vec<FilterTarget>> {
    all_candidates_for(query)
        .into_iter()
        .map(|candidate| candidate.keys.into_iter().map(|key| key.target).collect())
        .collect()
}

fn all_candidates_for(query: &str) -> Vec<Candidate> {
    let parsed = parse_statement(query).unwrap();
    let info = table(Vec::new());
    let tables = vec![Some(info.clone()); parsed.relations.len()];
    build_candidates(&filters_for_table(&parsed, &tables, &info), 3)
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
    assert!(covering_index(&info, &plain(&[column("barcode")])).is_some());
    assert!(covering_index(&info, &plain(&[column("barcode"), column("zone")])).is_some());
    assert!(covering_index(&info, &plain(&[column("zone")])).is_none());
    assert!(covering_index(&info, &plain(&[column("barcode"), column("id")])).is_none());
}

#[test]
fn invalid_partial_and_gist_indexes_do_not_cover() {
    let mut invalid = btree(vec![ExistingKey::Column(2)]);
    invalid.valid = false;
    let mut partial = btree(vec![ExistingKey::Column(2)]);
    partial.predicate = Some("zone = 'north'::text".to_string());
    let mut gist = btree(vec![ExistingKey::Column(2)]);
    gist.method = "gist".to_string();
    let mut pattern_ops = btree(vec![ExistingKey::Column(2)]);
    pattern_ops.default_operator_classes = false;
    let info = table(vec![invalid, partial, gist, pattern_ops]);
    assert!(covering_index(&info, &plain(&[column("barcode")])).is_none());
}

#[test]
fn plain_index_does_not_cover_expression() {
    let info = table(vec![btree(vec![ExistingKey::Column(4)])]);
    let lower = FilterTarget::Expression {
        sql: "lower(email)".to_string(),
        columns: vec!["email".to_string()],
    };
    assert!(covering_index(&info, &plain(std::slice::from_ref(&lower))).is_none());

    let expression_index = btree(vec![ExistingKey::Expression(
        canonical_expression("lower(email)").unwrap(),
    )]);
    let info = table(vec![expression_index]);
    assert!(covering_index(&info, &plain(&[lower])).is_some());
}

#[test]
fn filters_go_to_the_table_with_the_column() {
    let parsed = parse_statement("SELECT * FROM parcels, depots WHERE barcode = $1").unwrap();
    let parcels = table(Vec::new());
    let mut depots = table(Vec::new());
    depots.oid = 2;
    depots.columns = vec![(1, "id".to_string()), (2, "city".to_string())];
    let tables = vec![Some(parcels.clone()), Some(depots.clone())];
    assert_eq!(
        filters_for_table(&parsed, &tables, &parcels).filters.len(),
        1
    );
    assert!(
        filters_for_table(&parsed, &tables, &depots)
            .filters
            .is_empty()
    );
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
    let candidate = plain(&keys);
    assert_eq!(candidate.describe(), "(zone, lower(email))");
    let action = contracts::CreateIndex::new("public", "parcels", candidate.index_keys(), None);
    assert_eq!(
        action.ddl,
        r#"CREATE INDEX CONCURRENTLY "idx_parcels_zone_lower_email" ON "public"."parcels" ("zone", (lower(email)))"#
    );
}

#[test]
fn equality_keys_are_tried_in_both_orders() {
    let candidates = candidates_for("SELECT * FROM parcels WHERE zone = $1 AND barcode = $2");
    assert!(candidates.contains(&vec![column("zone"), column("barcode")]));
    assert!(candidates.contains(&vec![column("barcode"), column("zone")]));
}

#[test]
fn order_by_with_limit_follows_the_equality_keys() {
    let candidates =
        all_candidates_for("SELECT * FROM parcels WHERE zone = $1 ORDER BY sent DESC, id LIMIT $2");
    let descriptions: Vec<String> = candidates.iter().map(Candidate::describe).collect();
    assert!(
        descriptions.contains(&"(zone, sent DESC, id)".to_string()),
        "{descriptions:?}"
    );
    assert!(
        descriptions.contains(&"(sent DESC, id)".to_string()),
        "{descriptions:?}"
    );

    let unlimited = all_candidates_for("SELECT * FROM parcels WHERE zone = $1 ORDER BY sent");
    assert_eq!(unlimited.len(), 1);
}

#[test]
fn partial_candidates_need_a_literal() {
    let literal = all_candidates_for(
        "SELECT * FROM parcels WHERE zone = 'north' ORDER BY sent DESC LIMIT 20",
    );
    let descriptions: Vec<String> = literal.iter().map(Candidate::describe).collect();
    assert!(
        descriptions.contains(&"(sent DESC) WHERE zone = 'north'".to_string()),
        "{descriptions:?}"
    );

    let parameter =
        all_candidates_for("SELECT * FROM parcels WHERE zone = $1 ORDER BY sent DESC LIMIT $2");
    assert!(parameter.iter().all(|c| c.predicate.is_none()));
}

#[test]
fn partial_index_covers_only_the_same_predicate() {
    let mut partial = btree(vec![ExistingKey::Column(5)]);
    partial.predicate = canonical_expression("zone = 'north'");
    let info = table(vec![partial]);
    let same = Candidate {
        predicate: Some("zone = 'north'".to_string()),
        ..plain(&[column("sent")])
    };
    let other = Candidate {
        predicate: Some("zone = 'south'".to_string()),
        ..plain(&[column("sent")])
    };
    assert!(covering_index(&info, &same).is_some());
    assert!(covering_index(&info, &other).is_none());
    assert!(covering_index(&info, &plain(&[column("sent")])).is_none());
}

#[test]
fn cap_keeps_single_order_and_partial_candidates() {
    // Three equalities, one of them literal, and ORDER BY ... LIMIT give 34 candidates at
    // three keys: more than the cap.
    let candidates = all_candidates_for(
        "SELECT * FROM parcels WHERE zone = $1 AND barcode = $2 AND email = 'x' \
         ORDER BY sent DESC LIMIT 20",
    );
    assert_eq!(candidates.len(), MAX_CANDIDATES);
    let descriptions: Vec<String> = candidates.iter().map(Candidate::describe).collect();
    let expected = [
        "(zone)",
        "(barcode)",
        "(email)",
        "(sent DESC)",
        "(zone, sent DESC)",
        "(zone, barcode, sent DESC)",
        "(barcode, email, sent DESC)",
        "(zone, barcode, email)",
        "(sent DESC) WHERE email = 'x'",
        "(zone, sent DESC) WHERE email = 'x'",
        "(zone, barcode, sent DESC) WHERE email = 'x'",
    ];
    for description in expected {
        assert!(
            descriptions.contains(&description.to_string()),
            "{description} is missing from {descriptions:?}"
        );
    }
}

#[test]
fn cap_puts_other_orderings_last() {
    let candidates = all_candidates_for(
        "SELECT * FROM parcels WHERE zone = $1 AND barcode = $2 AND email = 'x' \
         ORDER BY sent DESC LIMIT 20",
    );
    let descriptions: Vec<String> = candidates.iter().map(Candidate::describe).collect();
    let first = descriptions.iter().position(|d| d == "(zone, barcode)");
    let reordered = descriptions.iter().position(|d| d == "(barcode, zone)");
    assert!(first.is_some(), "{descriptions:?}");
    assert!(
        reordered.is_none_or(|reordered| Some(reordered) > first),
        "{descriptions:?}"
    );
    assert_eq!(descriptions[0], "(zone)");
}

#[test]
fn mixed_directions_need_a_matching_index() {
    let ascending = btree(vec![ExistingKey::Column(5), ExistingKey::Column(1)]);
    let info = table(vec![ascending]);
    let mixed = Candidate {
        keys: vec![
            Key {
                target: column("sent"),
                descending: true,
            },
            Key {
                target: column("id"),
                descending: false,
            },
        ],
        predicate: None,
    };
    assert!(covering_index(&info, &mixed).is_none());

    let reversed = Candidate {
        keys: mixed
            .keys
            .iter()
            .map(|key| Key {
                descending: true,
                ..key.clone()
            })
            .collect(),
        predicate: None,
    };
    assert!(covering_index(&info, &reversed).is_some());
}
