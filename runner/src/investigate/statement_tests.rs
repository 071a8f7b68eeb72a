use super::*;

fn filters_of(query: &str) -> Vec<(Vec<usize>, FilterTarget, Comparison)> {
    let parsed = parse_statement(query).unwrap();
    parsed
        .filters
        .into_iter()
        .map(|f| (f.relations, f.target, f.comparison))
        .collect()
}

fn column(name: &str) -> FilterTarget {
    FilterTarget::Column(name.to_string())
}

#[test]
fn equality_on_parameter() {
    let filters = filters_of("SELECT * FROM invoices WHERE account_ref = $1");
    assert_eq!(
        filters,
        vec![(vec![0], column("account_ref"), Comparison::Equality)]
    );
}

#[test]
fn range_in_and_constant_filters() {
    let filters = filters_of(
        "SELECT id FROM parcels p WHERE p.weight > $1 AND p.zone IN ($2, $3) \
         AND 'x' = p.kind AND p.sent BETWEEN $4 AND $5",
    );
    let targets: Vec<_> = filters.iter().map(|f| (&f.1, f.2)).collect();
    assert_eq!(
        targets,
        vec![
            (&column("weight"), Comparison::Range),
            (&column("zone"), Comparison::List),
            (&column("kind"), Comparison::Equality),
            (&column("sent"), Comparison::Range),
        ]
    );
}

#[test]
fn function_on_column_is_an_expression() {
    let filters = filters_of("SELECT * FROM members m WHERE lower(m.email) = $1");
    let expected = FilterTarget::Expression {
        sql: "lower(email)".to_string(),
        columns: vec!["email".to_string()],
    };
    assert_eq!(filters, vec![(vec![0], expected, Comparison::Equality)]);
}

#[test]
fn aliases_resolve_to_their_table() {
    let parsed = parse_statement(
        "SELECT * FROM shop.baskets b JOIN items i ON i.basket_id = b.id WHERE i.sku = $1",
    )
    .unwrap();
    assert_eq!(parsed.relations[0].schema.as_deref(), Some("shop"));
    assert_eq!(parsed.relations[1].alias.as_deref(), Some("i"));
    let sku = parsed
        .filters
        .iter()
        .find(|f| f.target == column("sku"))
        .unwrap();
    assert_eq!(sku.relations, vec![1]);
    let join = parsed
        .filters
        .iter()
        .find(|f| f.target == column("basket_id"))
        .unwrap();
    assert_eq!(join.relations, vec![1]);
}

#[test]
fn unqualified_column_in_join_leaves_choice() {
    let filters = filters_of("SELECT * FROM a, b WHERE a.id = b.a_id AND note = $1");
    let note = filters.iter().find(|f| f.1 == column("note")).unwrap();
    assert_eq!(note.0, vec![0, 1]);
}

#[test]
fn or_conditions_are_not_collected() {
    let filters = filters_of("SELECT * FROM t WHERE a = $1 OR b = $2");
    assert!(filters.is_empty());
}

#[test]
fn parameters_count_everywhere() {
    let parsed = parse_statement(
        "SELECT id, CASE WHEN kind = $1 THEN $2 ELSE $3 END FROM clinics WHERE email = $4 LIMIT $5",
    )
    .unwrap();
    assert_eq!(parsed.parameter_count, 5);
}

#[test]
fn cte_names_are_not_tables() {
    let parsed =
        parse_statement("WITH recent AS (SELECT * FROM logs WHERE at > $1) SELECT * FROM recent")
            .unwrap();
    let names: Vec<_> = parsed.relations.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["logs"]);
}

#[test]
fn update_and_delete_need_where() {
    assert!(parse_statement("UPDATE accounts SET balance = 0").is_err());
    assert!(parse_statement("DELETE FROM accounts").is_err());
    let update = parse_statement("UPDATE accounts SET balance = $1 WHERE aid = $2").unwrap();
    assert_eq!(update.kind, StatementKind::Update);
    assert_eq!(update.filters.len(), 1);
}

#[test]
fn unsafe_statements_are_rejected() {
    let rejected = [
        "SELECT 1; DROP TABLE accounts",
        "DROP TABLE accounts",
        "INSERT INTO accounts VALUES ($1)",
        "SELECT * INTO copy FROM accounts",
        "WITH gone AS (DELETE FROM accounts RETURNING *) SELECT * FROM gone",
        "VACUUM accounts",
        "SELECT FROM WHERE",
    ];
    for query in rejected {
        assert!(parse_statement(query).is_err(), "{query} was accepted");
    }
}

#[test]
fn deparsed_text_keeps_parameters() {
    let parsed = parse_statement("select * from t where a = $1 -- trailing").unwrap();
    assert_eq!(parsed.sql, "SELECT * FROM t WHERE a = $1");
}

fn leading_wildcard_of(query: &str) -> Option<bool> {
    let parsed = parse_statement(query).unwrap();
    match &parsed.obstacles[..] {
        [
            Obstacle {
                kind:
                    ObstacleKind::PatternMatch {
                        leading_wildcard, ..
                    },
                ..
            },
        ] => *leading_wildcard,
        other => panic!("expected one pattern match in {query}: {other:?}"),
    }
}

#[test]
fn pattern_start_decides_the_leading_wildcard() {
    let cases = [
        (
            "SELECT id FROM logs WHERE source ILIKE '%' || $1 || '%'",
            Some(true),
        ),
        ("SELECT id FROM logs WHERE source LIKE '%disk%'", Some(true)),
        (
            "SELECT id FROM logs WHERE source LIKE 'disk' || $1",
            Some(false),
        ),
        ("SELECT id FROM logs WHERE source LIKE 'disk%'", Some(false)),
        (
            "SELECT id FROM logs WHERE source ILIKE $2 || $1 || $3",
            None,
        ),
        ("SELECT id FROM logs WHERE source LIKE $1", None),
    ];
    for (query, expected) in cases {
        assert_eq!(leading_wildcard_of(query), expected, "{query}");
    }
}
