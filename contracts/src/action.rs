use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::partitioned_index::{IndexedPartition, partition_index_name};

/// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A class of action DBAgent can take; standing permissions are granted per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    CreateIndex,
    DropIndex,
}

/// A fix that a run proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProposedAction {
    CreateIndex(CreateIndex),
    DropIndex(DropIndex),
}

impl ActionKind {
    /// Names the kind in the plural, for sentences such as "it allows index builds".
    pub fn description(self) -> &'static str {
        match self {
            ActionKind::CreateIndex => "index builds",
            ActionKind::DropIndex => "index drops",
        }
    }
}

impl ProposedAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            ProposedAction::CreateIndex(_) => ActionKind::CreateIndex,
            ProposedAction::DropIndex(_) => ActionKind::DropIndex,
        }
    }

    /// Returns the statements DBAgent would run.
    pub fn ddl(&self) -> &str {
        match self {
            ProposedAction::CreateIndex(index) => &index.ddl,
            ProposedAction::DropIndex(index) => &index.ddl,
        }
    }

    /// Returns the statement DBAgent would run, or for a build in many statements the first
    /// one and what follows it, to fit in a sentence.
    pub fn summary(&self) -> String {
        match self {
            ProposedAction::CreateIndex(index) => index.summary(),
            ProposedAction::DropIndex(index) => index.ddl.clone(),
        }
    }
}

/// `CREATE INDEX CONCURRENTLY` of a btree index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIndex {
    pub schema: String,
    pub table: String,
    pub keys: Vec<IndexKey>,
    /// `WHERE` clause of a partial index, as SQL produced by the statement parser.
    pub predicate: Option<String>,
    pub index_name: String,
    /// The statement DBAgent runs, or for a partitioned table every statement of the
    /// partition-by-partition build, one per line.
    pub ddl: String,
    /// The partitions below `table` when it is partitioned, as the proposal saw them, in
    /// build order. Empty for a table that is not partitioned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<IndexedPartition>,
}

/// `DROP INDEX CONCURRENTLY` of an index that DBAgent built and that brought no gain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DropIndex {
    pub schema: String,
    pub index_name: String,
    /// The table the index is on, whose owner the preflight check compares with the runner's
    /// role.
    pub table: String,
    /// The statement DBAgent runs.
    pub ddl: String,
}

impl DropIndex {
    /// Builds the action with its DDL.
    pub fn new(schema: &str, table: &str, index_name: &str) -> DropIndex {
        let mut action = DropIndex {
            schema: schema.to_string(),
            index_name: index_name.to_string(),
            table: table.to_string(),
            ddl: String::new(),
        };
        action.ddl = action.render_ddl();
        action
    }

    /// Renders the statement with the index name quoted and schema-qualified. It has no `IF
    /// EXISTS`, so that a wrong name fails instead of passing as done.
    pub fn render_ddl(&self) -> String {
        format!(
            "DROP INDEX CONCURRENTLY {}",
            qualified_name(&self.schema, &self.index_name)
        )
    }
}

/// One key of an index: a column or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndexKey {
    Column {
        name: String,
        descending: bool,
    },
    /// An expression as SQL produced by the statement parser, such as `lower(email)`.
    Expression {
        sql: String,
    },
}

impl CreateIndex {
    /// Builds the action with a deterministic name and its DDL.
    pub fn new(
        schema: &str,
        table: &str,
        keys: Vec<IndexKey>,
        predicate: Option<String>,
    ) -> CreateIndex {
        let index_name = index_name(table, &keys, predicate.as_deref());
        let mut action = CreateIndex {
            schema: schema.to_string(),
            table: table.to_string(),
            keys,
            predicate,
            index_name,
            ddl: String::new(),
            partitions: Vec::new(),
        };
        action.ddl = action.render_ddl();
        action
    }

    /// Renders the statement with every identifier quoted and the table schema-qualified.
    pub fn render_ddl(&self) -> String {
        let table = qualified_name(&self.schema, &self.table);
        self.render_create("CREATE INDEX CONCURRENTLY", &self.index_name, &table)
    }

    /// Renders `<command> name ON <table> (keys) [WHERE predicate]` with this action's keys
    /// and predicate, for the table itself or one of its partitions.
    pub(crate) fn render_create(&self, command: &str, index_name: &str, table: &str) -> String {
        let keys: Vec<String> = self.keys.iter().map(IndexKey::render).collect();
        let mut ddl = format!(
            "{command} {} ON {table} ({})",
            quote_identifier(index_name),
            keys.join(", ")
        );
        if let Some(predicate) = &self.predicate {
            ddl.push_str(&format!(" WHERE {predicate}"));
        }
        ddl
    }
}

impl IndexKey {
    fn render(&self) -> String {
        match self {
            IndexKey::Column { name, descending } => {
                let direction = if *descending { " DESC" } else { "" };
                format!("{}{direction}", quote_identifier(name))
            }
            IndexKey::Expression { sql } => format!("({sql})"),
        }
    }

    fn name_part(&self) -> String {
        match self {
            IndexKey::Column {
                name,
                descending: false,
            } => name.clone(),
            IndexKey::Column {
                name,
                descending: true,
            } => format!("{name}_desc"),
            IndexKey::Expression { sql } => words_of(sql),
        }
    }
}

/// Keeps the ASCII letters and digits of SQL text, joined by single underscores.
fn words_of(sql: &str) -> String {
    sql.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// Names an index `idx_<table>_<key>_<key>`, with `_desc` after a descending key and
/// `_where_<words>` for a partial index. The same proposal always gets the same name. A name
/// longer than PostgreSQL's identifier limit is cut on a character boundary.
///
/// NOTE: two proposals that differ only after the cut get the same name.
pub fn index_name(table: &str, keys: &[IndexKey], predicate: Option<&str>) -> String {
    let mut name = format!("idx_{table}");
    for key in keys {
        name.push('_');
        name.push_str(&key.name_part());
    }
    if let Some(predicate) = predicate {
        name.push_str("_where_");
        name.push_str(&words_of(predicate));
    }
    while name.len() > MAX_IDENTIFIER_BYTES {
        name.pop();
    }
    name
}

/// Renders `schema.name` with both parts quoted.
pub fn qualified_name(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_identifier(schema), quote_identifier(name))
}

/// Quotes an identifier as PostgreSQL's `quote_ident` does for any name: in double quotes, with
/// embedded double quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str) -> IndexKey {
        IndexKey::Column {
            name: name.to_string(),
            descending: false,
        }
    }

    #[test]
    fn ddl_quotes_and_qualifies_everything() {
        let action = CreateIndex::new("public", "orders", vec![column("customer_id")], None);
        assert_eq!(action.index_name, "idx_orders_customer_id");
        assert_eq!(
            action.ddl,
            r#"CREATE INDEX CONCURRENTLY "idx_orders_customer_id" ON "public"."orders" ("customer_id")"#
        );
    }

    #[test]
    fn hostile_names_stay_inside_quotes() {
        let action = CreateIndex::new("s", "t\"; DROP TABLE x; --", vec![column("c")], None);
        assert!(
            action.ddl.contains(r#""t""; DROP TABLE x; --""#),
            "{}",
            action.ddl
        );
    }

    #[test]
    fn expression_and_predicate_render() {
        let keys = vec![
            IndexKey::Expression {
                sql: "lower(email)".to_string(),
            },
            IndexKey::Column {
                name: "created_at".to_string(),
                descending: true,
            },
        ];
        let action = CreateIndex::new("app", "users", keys, Some("role = 'admin'".to_string()));
        assert_eq!(
            action.index_name,
            "idx_users_lower_email_created_at_desc_where_role_admin"
        );
        assert!(
            action
                .ddl
                .ends_with(r#"((lower(email)), "created_at" DESC) WHERE role = 'admin'"#)
        );
    }

    #[test]
    fn drop_ddl_quotes_and_qualifies_the_index() {
        let action = DropIndex::new("public", "orders", "idx_orders_customer_id");
        assert_eq!(
            action.ddl,
            r#"DROP INDEX CONCURRENTLY "public"."idx_orders_customer_id""#
        );
        let kind = ProposedAction::DropIndex(action).kind();
        assert_eq!(kind, ActionKind::DropIndex);
    }

    #[test]
    fn drop_ddl_keeps_hostile_names_inside_quotes() {
        let action = DropIndex::new("Sales \"EU\"", "t", "i\"; DROP TABLE x; --");
        assert_eq!(
            action.render_ddl(),
            r#"DROP INDEX CONCURRENTLY "Sales ""EU"""."i""; DROP TABLE x; --""#
        );
    }

    #[test]
    fn drop_action_round_trips_as_json() {
        let action = ProposedAction::DropIndex(DropIndex::new("public", "orders", "idx_o_c"));
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["kind"], "drop_index");
        assert_eq!(json["index_name"], "idx_o_c");
        let back: ProposedAction = serde_json::from_value(json).unwrap();
        assert_eq!(back, action);
        let kind = serde_json::to_value(ActionKind::DropIndex).unwrap();
        assert_eq!(kind, "drop_index");
    }

    #[test]
    fn long_names_fit_the_identifier_limit() {
        let long = "a".repeat(80);
        let name = index_name(&long, &[column("b")], None);
        assert_eq!(name.len(), MAX_IDENTIFIER_BYTES);
    }
}
