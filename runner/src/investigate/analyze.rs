//! The analysis of one hot statement: parse, plan, find sequential scans, evaluate candidate
//! indexes on each scanned table, and decide.

use std::collections::HashSet;

use contracts::{CreateIndex, Evidence, ProposedAction};
use tokio_postgres::Client;

use super::activity::ActivitySamples;
use super::catalog::{TableInfo, load_table, partition_ancestors, schemas_with_relation};
use super::choice::Choice;
use super::delta::{Deltas, StatementDelta};
use super::error::{Result, server_detail};
use super::findings::{Finding, FullScan, Verdict, describe, severity};
use super::functions::cost_inside_function;
use super::literals::bind_literals;
use super::options::InvestigateOptions;
use super::partitions::table_delta;
use super::plan::{self, GenericPlan, PlanLimits, plan_generic, render_plan, seq_scans};
use super::snapshot::TableName;
use super::statement::{ParsedStatement, RelationRef, parse_statement};
use super::variables::parameterize_variables;

/// The result of analyzing one sequentially scanned table.
pub(super) enum TableOutcome {
    Evaluated(Box<Choice>),
    Rejected(Verdict),
}

/// Analyzes statements of one window against one target connection.
pub struct Analyzer<'a> {
    pub client: &'a Client,
    pub options: &'a InvestigateOptions,
    pub limits: PlanLimits,
    pub deltas: &'a Deltas,
    pub samples: &'a ActivitySamples,
}

impl Analyzer<'_> {
    /// Analyzes one statement. Failures become the finding's verdict, so that the caller can
    /// go on with the next statement. Also returns the statement as planned, when planning
    /// succeeded, so that the candidates of other statements can be weighed on it.
    pub async fn analyze(&self, statement: &StatementDelta) -> (Finding, Option<ParsedStatement>) {
        let mut evidence = self.base_evidence(statement);
        let mut full_scan = None;
        let mut planned = None;
        let examined = self
            .examine(statement, &mut evidence, &mut full_scan, &mut planned)
            .await;
        let (verdict, action) = match examined {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(query_id = statement.key.query_id, %error, "analysis failed");
                let retryable = error.is_retryable();
                let reason = error.to_string();
                (Verdict::Failed { reason, retryable }, None)
            }
        };
        let action = action.map(ProposedAction::CreateIndex);
        let large_scan = evidence.cost_before.is_some()
            && evidence.seq_scans_in_window.is_some()
            && !matches!(
                verdict,
                Verdict::TableTooSmall { .. } | Verdict::NoSequentialScan
            );
        let (title, summary) = describe(&verdict, &evidence, action.as_ref());
        let finding = Finding {
            severity: severity(statement.share_of_time_pct, large_scan),
            title,
            summary,
            evidence,
            proposed_action: action,
            verdict,
            full_scan,
        };
        (finding, planned)
    }

    fn base_evidence(&self, statement: &StatementDelta) -> Evidence {
        let seconds = self.deltas.window.seconds();
        Evidence {
            statement: statement.query.clone(),
            query_id: Some(statement.key.query_id),
            window_seconds: seconds,
            calls_per_second: statement.calls as f64 / seconds,
            mean_time_ms: statement.mean_time_ms(),
            share_of_time_pct: statement.share_of_time_pct,
            rows_per_call: statement.rows_per_call(),
            ..Evidence::default()
        }
    }

    /// Fills `evidence`, `full_scan` and `planned` as the analysis learns them, so that they
    /// survive a failure of a later step.
    async fn examine(
        &self,
        statement: &StatementDelta,
        evidence: &mut Evidence,
        full_scan: &mut Option<FullScan>,
        planned: &mut Option<ParsedStatement>,
    ) -> Result<(Verdict, Option<CreateIndex>)> {
        let parsed = match self.parse_with_literals(statement, evidence) {
            Ok(parsed) => parsed,
            Err(reason) => return Ok((Verdict::NotAnalyzed { reason }, None)),
        };
        let mut parsed = parsed;
        let mut tables = Vec::new();
        for relation in &parsed.relations {
            tables.push(load_table(self.client, relation).await?);
        }
        self.resolve_off_path(&mut parsed, &mut tables, &mut evidence.notes)
            .await?;
        let (parsed, before) = match self.plan_statement(statement, parsed, &tables).await {
            Ok(planned) => planned,
            Err(error) => {
                let reason = format!("PostgreSQL could not plan it ({})", server_detail(&error));
                return Ok((Verdict::PlanFailed { reason }, None));
            }
        };
        evidence.plan_before = Some(render_plan(&before));
        evidence.cost_before = Some(before.total_cost);
        *full_scan = plan::full_scan(&before);
        *planned = Some(parsed.clone());

        let mut scanned = self.scanned_tables(&before, &tables);
        if scanned.is_empty() {
            scanned = self
                .partitioned_tables_scanned(&before, &tables, &mut evidence.notes)
                .await?;
        }
        let Some(largest) = scanned.first() else {
            if let Some(verdict) = cost_inside_function(self.client, &parsed).await? {
                return Ok((verdict, None));
            }
            return Ok((no_scan_verdict(&before, &tables, evidence), None));
        };
        self.fill_table_evidence(evidence, largest);

        let mut best: Option<Choice> = None;
        let mut rejections = Vec::new();
        for table in &scanned {
            let outcome = self
                .examine_table(&parsed, &tables, table, &before, &mut evidence.notes)
                .await?;
            match outcome {
                TableOutcome::Evaluated(choice) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| choice.reduction_pct > b.reduction_pct)
                    {
                        best = Some(*choice);
                    }
                }
                TableOutcome::Rejected(verdict) => rejections.push(verdict),
            }
        }
        Ok(self.decide(best, rejections, &before, evidence))
    }

    /// Parses the statement with the literals that all its sampled executions agree on. Falls
    /// back to the normalized text, whose `$n` the generic plan treats as unknown values.
    fn parse_with_literals(
        &self,
        statement: &StatementDelta,
        evidence: &mut Evidence,
    ) -> std::result::Result<ParsedStatement, String> {
        let texts = self.samples.texts(statement.key.query_id);
        let Some(bound) = bind_literals(&statement.query, texts) else {
            return parse_statement(&statement.query);
        };
        let Ok(parsed) = parse_statement(&bound.sql) else {
            return parse_statement(&statement.query);
        };
        if !bound.literals.is_empty() {
            let values: Vec<String> = bound
                .literals
                .iter()
                .map(|(number, literal)| format!("${number} = {literal}"))
                .collect();
            evidence.notes.push(format!(
                "In all {} executions sampled from pg_stat_activity, the client sent literals \
                 where pg_stat_statements shows parameters ({}), so the statement was planned \
                 with those values.",
                bound.executions,
                values.join(", ")
            ));
        }
        Ok(parsed)
    }

    /// Finds tables the statement names without schema that the runner's search_path does
    /// not reach. When exactly one table of that name was read in the window, it is taken as
    /// the one the client's search_path reached, and its schema goes first when planning.
    ///
    /// NOTE: a name that the runner's search_path does resolve is kept as resolved, even when
    /// the client's session reached a table of the same name in another schema.
    async fn resolve_off_path(
        &self,
        parsed: &mut ParsedStatement,
        tables: &mut [Option<TableInfo>],
        notes: &mut Vec<String>,
    ) -> Result<()> {
        let mut resolved = HashSet::new();
        for (position, relation) in parsed.relations.clone().iter().enumerate() {
            if relation.schema.is_some() || tables[position].is_some() {
                continue;
            }
            let mut read = Vec::new();
            for schema in schemas_with_relation(self.client, &relation.name).await? {
                let name = TableName {
                    schema: schema.clone(),
                    name: relation.name.clone(),
                };
                let delta = self.deltas.tables.get(&name);
                if delta.is_some_and(|d| d.seq_scan + d.idx_scan > 0) {
                    read.push(schema);
                }
            }
            let [schema] = read.as_slice() else {
                continue;
            };
            let qualified = RelationRef {
                schema: Some(schema.clone()),
                ..relation.clone()
            };
            tables[position] = load_table(self.client, &qualified).await?;
            // A table named twice, as in a self-join, gets one note, and a schema goes on the
            // search_path once.
            if !resolved.insert(relation.name.clone()) {
                continue;
            }
            notes.push(format!(
                "No table named {name} is on the runner's search_path. The only table of that \
                 name read in the window is {schema}.{name}, so the statement was planned with \
                 {schema} first on the search_path.",
                name = relation.name
            ));
            if !parsed.search_path.contains(schema) {
                parsed.search_path.push(schema.clone());
            }
        }
        Ok(())
    }

    /// Plans the statement. A statement nested in a function may name the function's
    /// variables, which fail as undefined columns. Those names then become parameters, and
    /// the rewritten statement is planned with the same search_path.
    ///
    /// Returns the first planning error when the rewrite fails too, because that error names
    /// the statement as recorded, not the parameters the rewrite added.
    async fn plan_statement(
        &self,
        statement: &StatementDelta,
        parsed: ParsedStatement,
        tables: &[Option<TableInfo>],
    ) -> std::result::Result<(ParsedStatement, GenericPlan), tokio_postgres::Error> {
        let error = match plan_generic(self.client, &parsed, self.limits).await {
            Ok(plan) => return Ok((parsed, plan)),
            Err(error) => error,
        };
        let undefined_column = error
            .code()
            .is_some_and(|code| *code == tokio_postgres::error::SqlState::UNDEFINED_COLUMN);
        if statement.key.toplevel || !undefined_column {
            return Err(error);
        }
        let known = known_names(&parsed, tables);
        let rewritten = parameterize_variables(&parsed.sql, &known, parsed.parameter_count)
            .and_then(|sql| parse_statement(&sql).ok());
        let Some(mut rewritten) = rewritten else {
            return Err(error);
        };
        rewritten.search_path = parsed.search_path.clone();
        match plan_generic(self.client, &rewritten, self.limits).await {
            Ok(plan) => Ok((rewritten, plan)),
            Err(rewrite_error) => {
                tracing::debug!(
                    query_id = statement.key.query_id,
                    error = %server_detail(&rewrite_error),
                    "statement with variables as parameters could not be planned either"
                );
                Err(error)
            }
        }
    }

    /// Returns the partitioned tables the statement names whose partitions, at any depth of
    /// the partition tree, the plan scans sequentially, and notes which partitions it scans.
    /// The index goes on the partitioned table, so that every partition gets one.
    async fn partitioned_tables_scanned(
        &self,
        plan: &GenericPlan,
        tables: &[Option<TableInfo>],
        notes: &mut Vec<String>,
    ) -> Result<Vec<TableInfo>> {
        // Each partitioned table the statement names, with its scanned partitions, in plan order.
        let mut parents: Vec<(TableInfo, Vec<String>)> = Vec::new();
        for scan in plan::seq_scans(plan) {
            let relation = RelationRef {
                schema: Some(scan.schema.clone()),
                name: scan.relation.clone(),
                alias: None,
            };
            let Some(partition) = load_table(self.client, &relation).await? else {
                continue;
            };
            if partition.partition_of.is_none() {
                continue;
            }
            let ancestors = partition_ancestors(self.client, partition.oid).await?;
            let named = ancestors.iter().find_map(|ancestor| {
                tables
                    .iter()
                    .flatten()
                    .find(|table| table.oid == ancestor.oid)
            });
            let Some(parent) = named else {
                continue;
            };
            let partition_name = partition.name.to_string();
            match parents
                .iter_mut()
                .find(|(known, _)| known.oid == parent.oid)
            {
                Some((_, partitions)) => partitions.push(partition_name),
                None => parents.push((parent.clone(), vec![partition_name])),
            }
        }
        for (parent, partitions) in &parents {
            notes.push(format!(
                "The plan reads the partitions {} of {} sequentially.",
                partitions.join(", "),
                parent.name
            ));
        }
        Ok(parents.into_iter().map(|(parent, _)| parent).collect())
    }

    /// Returns the tables the plan scans sequentially, largest first.
    fn scanned_tables(&self, plan: &GenericPlan, tables: &[Option<TableInfo>]) -> Vec<TableInfo> {
        let mut scanned: Vec<TableInfo> = Vec::new();
        for scan in seq_scans(plan) {
            let found = tables
                .iter()
                .flatten()
                .find(|table| table.name.schema == scan.schema && table.name.name == scan.relation);
            if let Some(table) = found
                && !scanned.iter().any(|known| known.oid == table.oid)
            {
                scanned.push(table.clone());
            }
        }
        scanned.sort_by_key(|table| {
            let size = self.deltas.tables.get(&table.name);
            std::cmp::Reverse(size.map_or(0, |delta| delta.current.size_bytes))
        });
        scanned
    }

    pub(super) fn fill_table_evidence(&self, evidence: &mut Evidence, table: &TableInfo) {
        evidence.table = Some(table.name.to_string());
        let Some(delta) = table_delta(self.deltas, table) else {
            return;
        };
        evidence.table_size_bytes = Some(delta.current.size_bytes.max(0) as u64);
        evidence.table_rows = Some(estimated_rows(&delta));
        evidence.seq_scans_in_window = Some(delta.seq_scan as u64);
        evidence.table_writes_per_second =
            Some(delta.writes as f64 / self.deltas.table_window.seconds());
    }
}

/// Collects the names in a statement that are not variables: its tables, their schemas and
/// aliases, and the columns of those tables.
fn known_names(parsed: &ParsedStatement, tables: &[Option<TableInfo>]) -> HashSet<String> {
    let mut known = HashSet::new();
    for relation in &parsed.relations {
        known.insert(relation.name.clone());
        known.extend(relation.alias.clone());
        known.extend(relation.schema.clone());
    }
    for table in tables.iter().flatten() {
        known.extend(table.columns.iter().map(|(_, name)| name.clone()));
    }
    known
}

/// Returns the verdict for a plan without sequential scans of the statement's tables. A view
/// hides the tables it scans, a foreign table is read on another server, and every other
/// table already goes through an index.
fn no_scan_verdict(
    plan: &GenericPlan,
    tables: &[Option<TableInfo>],
    evidence: &mut Evidence,
) -> Verdict {
    let of_kind = |kind: &str| {
        tables
            .iter()
            .flatten()
            .find(|table| table.kind == kind)
            .map(|table| table.name.to_string())
    };
    let base_scans = plan::seq_scans(plan);
    if let Some(view) = of_kind("v")
        && !base_scans.is_empty()
    {
        let scanned: Vec<String> = base_scans
            .iter()
            .map(|scan| format!("{}.{}", scan.schema, scan.relation))
            .collect();
        evidence.table = Some(view.clone());
        evidence.notes.push(format!(
            "{view} is a view, and the plan reads {} sequentially through it. Candidates are \
             not derived through views: the view's own query, run against its tables, shows \
             which index they need.",
            scanned.join(", ")
        ));
        return Verdict::NotIndexable {
            table: view,
            kind: "view".into(),
        };
    }
    let Some(foreign) = plan::foreign_scans(plan).into_iter().next() else {
        return Verdict::NoSequentialScan;
    };
    // A scan that postgres_fdw pushes down as a join names no relation.
    let table = if foreign.relation.is_empty() {
        of_kind("f").unwrap_or_else(|| "a foreign table".into())
    } else {
        format!("{}.{}", foreign.schema, foreign.relation)
    };
    evidence.table = Some(table.clone());
    evidence.notes.push(format!(
        "{table} is a foreign table: its rows come from another server, whose own indexes \
         decide the cost, so no index is evaluated here."
    ));
    Verdict::NotIndexable {
        table,
        kind: "foreign table".into(),
    }
}

/// Returns the planner's row estimate, or the live row count before the first ANALYZE.
pub(super) fn estimated_rows(delta: &super::delta::TableDelta) -> u64 {
    if delta.current.estimated_rows >= 0.0 {
        delta.current.estimated_rows as u64
    } else {
        delta.current.n_live_tup.max(0) as u64
    }
}
