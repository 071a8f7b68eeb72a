//! A serializable report of one investigation, the JSON that `dbagent investigate --json`
//! prints.
//!
//! Readers may rely on the structure: a new field may appear, but renaming or removing a
//! field, or changing its meaning, raises [`REPORT_VERSION`]. Verdicts appear as
//! [`Verdict::code`] strings, so new verdicts of the engine leave the shape unchanged.

use chrono::{DateTime, Utc};
use contracts::{Evidence, ProposedAction, Severity};
use serde::Serialize;

use super::delta::{StatementDelta, Window};
use super::findings::{Finding, Investigation, Verdict};
use super::server_role::ServerRole;

/// The version of the report's structure.
pub const REPORT_VERSION: u32 = 1;

/// The serializable form of an [`Investigation`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`REPORT_VERSION`] of the structure.
    pub version: u32,
    pub window: WindowReport,
    pub server_role: ServerRoleReport,
    /// The reset of the counters that spoiled the window, if one did. The statements and
    /// findings are then empty.
    pub counter_reset: Option<String>,
    /// The reset that shortened the window to the time after it, if one did.
    pub shortened_by: Option<String>,
    /// The reason each earlier window was discarded, oldest first.
    pub discarded_windows: Vec<String>,
    /// Facts about the window and the server that bear on every finding, in plain sentences.
    pub notes: Vec<String>,
    /// Every statement that ran in the window, most execution time first.
    pub statements: Vec<StatementReport>,
    /// One finding per analyzed statement, in the order of `statements`.
    pub findings: Vec<FindingReport>,
}

/// The observed window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowReport {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: f64,
}

/// The replication role of the investigated server. On a standby, a proposed index has to be
/// built on the primary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerRoleReport {
    /// `primary` or `standby`.
    pub role: String,
    /// The primary a standby replays from, as `host:port`, when the standby shows it.
    pub primary: Option<String>,
}

/// The counters of one `pg_stat_statements` entry over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementReport {
    /// `pg_stat_statements.queryid`.
    pub query_id: i64,
    /// False for a statement that ran inside a function, when `pg_stat_statements.track` is
    /// `all`.
    pub toplevel: bool,
    /// The normalized statement, with `$n` placeholders.
    pub query: String,
    pub calls: i64,
    pub calls_per_second: f64,
    pub mean_time_ms: f64,
    pub total_time_ms: f64,
    /// Share of the window's top-level execution time, 0 to 100.
    pub share_of_time_pct: f64,
    pub rows_per_call: f64,
}

/// The analysis of one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingReport {
    pub query_id: Option<i64>,
    /// Schema-qualified table the finding is about, when the analysis got that far.
    pub table: Option<String>,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    /// [`Verdict::code`], such as `index_proposed` or `table_too_small`.
    pub verdict: String,
    /// The reason no index is proposed, from [`Verdict::explanation`]. `None` when `ddl` is set.
    pub reason: Option<String>,
    /// The statement that builds the proposed index.
    pub ddl: Option<String>,
    pub evidence: Evidence,
}

impl From<&Investigation> for Report {
    fn from(investigation: &Investigation) -> Report {
        let seconds = investigation.window.seconds();
        Report {
            version: REPORT_VERSION,
            window: window_report(&investigation.window),
            server_role: server_role_report(&investigation.server_role),
            counter_reset: investigation.counter_reset.as_ref().map(|r| r.to_string()),
            shortened_by: investigation.shortened_by.as_ref().map(|r| r.to_string()),
            discarded_windows: investigation
                .discarded_windows
                .iter()
                .map(|reset| reset.to_string())
                .collect(),
            notes: investigation.notes.clone(),
            statements: investigation
                .statements
                .iter()
                .map(|statement| statement_report(statement, seconds))
                .collect(),
            findings: investigation.findings.iter().map(finding_report).collect(),
        }
    }
}

fn window_report(window: &Window) -> WindowReport {
    WindowReport {
        started_at: window.started_at,
        ended_at: window.ended_at,
        seconds: window.seconds(),
    }
}

fn server_role_report(role: &ServerRole) -> ServerRoleReport {
    match role {
        ServerRole::Primary => ServerRoleReport {
            role: "primary".to_string(),
            primary: None,
        },
        ServerRole::Standby { primary } => ServerRoleReport {
            role: "standby".to_string(),
            primary: primary.clone(),
        },
    }
}

fn statement_report(statement: &StatementDelta, window_seconds: f64) -> StatementReport {
    StatementReport {
        query_id: statement.key.query_id,
        toplevel: statement.key.toplevel,
        query: statement.query.clone(),
        calls: statement.calls,
        calls_per_second: statement.calls as f64 / window_seconds,
        mean_time_ms: statement.mean_time_ms(),
        total_time_ms: statement.exec_time_ms,
        share_of_time_pct: statement.share_of_time_pct,
        rows_per_call: statement.rows_per_call(),
    }
}

fn finding_report(finding: &Finding) -> FindingReport {
    let ddl = finding
        .proposed_action
        .as_ref()
        .map(|action| ProposedAction::ddl(action).to_string());
    FindingReport {
        query_id: finding.evidence.query_id,
        table: finding.evidence.table.clone(),
        severity: finding.severity,
        title: finding.title.clone(),
        summary: finding.summary.clone(),
        verdict: finding.verdict.code().to_string(),
        reason: reason(&finding.verdict),
        ddl,
        evidence: finding.evidence.clone(),
    }
}

/// Returns the verdict's explanation, or `None` for a proposal, whose explanation is empty.
fn reason(verdict: &Verdict) -> Option<String> {
    let explanation = verdict.explanation();
    (!explanation.is_empty()).then_some(explanation)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;
    use contracts::{CreateIndex, IndexKey};
    use serde_json::{Value, json};

    use super::*;
    use crate::investigate::delta::CounterReset;
    use crate::investigate::snapshot::StatementKey;

    fn window() -> Window {
        Window {
            started_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
            ended_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 10).unwrap(),
        }
    }

    fn statement(query_id: i64, calls: i64, exec_time_ms: f64) -> StatementDelta {
        StatementDelta {
            key: StatementKey {
                query_id,
                user_id: 10,
                database_id: 5,
                toplevel: true,
            },
            query: "SELECT * FROM orders WHERE customer_id = $1".to_string(),
            calls,
            exec_time_ms,
            rows: calls * 4,
            shared_blks_hit: 0,
            shared_blks_read: 0,
            share_of_time_pct: 80.0,
        }
    }

    fn finding(verdict: Verdict, action: Option<ProposedAction>) -> Finding {
        let evidence = Evidence {
            statement: "SELECT * FROM orders WHERE customer_id = $1".to_string(),
            query_id: Some(42),
            table: Some("public.orders".to_string()),
            cost_before: Some(1000.0),
            cost_with_index: Some(8.5),
            cost_reduction_pct: Some(99.15),
            estimated_saving_ms_per_second: Some(12.5),
            notes: vec!["Each call reads the whole table.".to_string()],
            ..Evidence::default()
        };
        Finding {
            severity: Severity::Critical,
            title: "Missing index on public.orders".to_string(),
            summary: "Statement 42 used 80.0 % of execution time.".to_string(),
            evidence,
            proposed_action: action,
            verdict,
            full_scan: None,
        }
    }

    fn orders_index() -> ProposedAction {
        let key = IndexKey::Column {
            name: "customer_id".to_string(),
            descending: false,
        };
        ProposedAction::CreateIndex(CreateIndex::new("public", "orders", vec![key], None))
    }

    fn investigation(findings: Vec<Finding>) -> Investigation {
        Investigation {
            window: window(),
            counter_reset: None,
            shortened_by: None,
            discarded_windows: Vec::new(),
            statements: vec![statement(42, 50, 100.0)],
            findings,
            tables: HashMap::new(),
            server_role: ServerRole::Primary,
            notes: Vec::new(),
        }
    }

    fn to_json(investigation: &Investigation) -> Value {
        serde_json::to_value(Report::from(investigation)).unwrap()
    }

    #[test]
    fn proposal_has_ddl_and_no_reason() {
        let proposal = finding(Verdict::IndexProposed, Some(orders_index()));
        let json = to_json(&investigation(vec![proposal]));
        let finding = &json["findings"][0];

        assert_eq!(finding["verdict"], "index_proposed");
        assert_eq!(
            finding["ddl"],
            r#"CREATE INDEX CONCURRENTLY "idx_orders_customer_id" ON "public"."orders" ("customer_id")"#
        );
        assert_eq!(finding["reason"], Value::Null);
        assert_eq!(finding["severity"], "critical");
        assert_eq!(finding["table"], "public.orders");
        assert_eq!(finding["query_id"], 42);
    }

    #[test]
    fn evidence_is_embedded_whole() {
        let proposal = finding(Verdict::IndexProposed, Some(orders_index()));
        let json = to_json(&investigation(vec![proposal]));
        let evidence = &json["findings"][0]["evidence"];

        assert_eq!(evidence["cost_before"], 1000.0);
        assert_eq!(evidence["cost_with_index"], 8.5);
        assert_eq!(evidence["cost_reduction_pct"], 99.15);
        assert_eq!(evidence["estimated_saving_ms_per_second"], 12.5);
        assert_eq!(
            evidence["notes"],
            json!(["Each call reads the whole table."])
        );
    }

    #[test]
    fn refusal_has_reason_and_no_ddl() {
        let verdict = Verdict::TableTooSmall {
            table: "public.orders".to_string(),
            rows: 120,
            pages: 2,
        };
        let json = to_json(&investigation(vec![finding(verdict, None)]));
        let finding = &json["findings"][0];

        assert_eq!(finding["verdict"], "table_too_small");
        assert_eq!(finding["ddl"], Value::Null);
        let reason = finding["reason"].as_str().unwrap();
        assert!(reason.contains("about 120 rows in 2 pages"), "{reason}");
    }

    #[test]
    fn statements_carry_rates() {
        let json = to_json(&investigation(Vec::new()));
        let statement = &json["statements"][0];

        assert_eq!(statement["query_id"], 42);
        assert_eq!(statement["toplevel"], true);
        assert_eq!(statement["calls"], 50);
        assert_eq!(statement["calls_per_second"], 5.0);
        assert_eq!(statement["mean_time_ms"], 2.0);
        assert_eq!(statement["total_time_ms"], 100.0);
        assert_eq!(statement["rows_per_call"], 4.0);
        assert_eq!(statement["share_of_time_pct"], 80.0);
    }

    #[test]
    fn window_is_rfc3339_with_seconds() {
        let json = to_json(&investigation(Vec::new()));

        assert_eq!(json["version"], REPORT_VERSION);
        assert_eq!(json["window"]["started_at"], "2025-03-01T12:00:00Z");
        assert_eq!(json["window"]["ended_at"], "2025-03-01T12:00:10Z");
        assert_eq!(json["window"]["seconds"], 10.0);
        assert_eq!(json["counter_reset"], Value::Null);
        assert_eq!(json["discarded_windows"], json!([]));
        assert_eq!(
            json["server_role"],
            json!({"role": "primary", "primary": null})
        );
    }

    #[test]
    fn standby_names_its_primary() {
        let mut standby = investigation(Vec::new());
        standby.server_role = ServerRole::Standby {
            primary: Some("db-primary:5432".to_string()),
        };
        let json = to_json(&standby);

        assert_eq!(json["server_role"]["role"], "standby");
        assert_eq!(json["server_role"]["primary"], "db-primary:5432");
    }

    #[test]
    fn counter_resets_are_described() {
        let reset_at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 4).unwrap();
        let mut reset = investigation(Vec::new());
        reset.statements.clear();
        reset.discarded_windows = vec![CounterReset {
            before: None,
            after: None,
        }];
        reset.counter_reset = Some(CounterReset {
            before: None,
            after: Some(reset_at),
        });
        reset.notes = vec!["The window was shortened.".to_string()];
        let json = to_json(&reset);

        let described = json["counter_reset"].as_str().unwrap();
        assert!(
            described.contains("reset at 2025-03-01 12:00:04"),
            "{described}"
        );
        assert_eq!(
            json["discarded_windows"],
            json!(["pg_stat_statements was reset"])
        );
        assert_eq!(json["shortened_by"], Value::Null);
        assert_eq!(json["notes"], json!(["The window was shortened."]));
        assert_eq!(json["statements"], json!([]));
    }
}
