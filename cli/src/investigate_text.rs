//! The text form of an investigation report, for a DBA at a terminal: the window, a line per
//! analyzed statement, then each finding with its evidence.

use contracts::Evidence;
use contracts::units::{bytes, thousands};
use runner::investigate::report::{FindingReport, Report};

/// Width of the statement column in the list of analyzed statements.
const STATEMENT_COLUMNS: usize = 72;

/// Renders the whole report, one line per `\n`.
pub fn render(report: &Report) -> String {
    let mut lines = window_lines(report);
    lines.push(String::new());
    lines.extend(statement_lines(report));
    for (index, finding) in report.findings.iter().enumerate() {
        lines.push(String::new());
        lines.extend(finding_lines(index + 1, finding));
    }
    lines.push(String::new());
    lines.push(proposal_count(report));
    lines.join("\n") + "\n"
}

fn window_lines(report: &Report) -> Vec<String> {
    let window = &report.window;
    let mut lines = vec![format!(
        "Window: {:.1} s, {} to {}",
        window.seconds,
        window.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        window.ended_at.format("%H:%M:%S UTC")
    )];
    if report.server_role.role == "standby" {
        let primary = report
            .server_role
            .primary
            .as_deref()
            .unwrap_or("its primary");
        lines.push(format!(
            "Server: a standby of {primary}; build any proposed index on the primary."
        ));
    }
    for reason in &report.discarded_windows {
        lines.push(format!("Discarded an earlier window: {reason}"));
    }
    if let Some(reset) = &report.counter_reset {
        lines.push(format!("Counters were reset during the window: {reset}"));
    }
    if let Some(reset) = &report.shortened_by {
        lines.push(format!("The window starts at a reset: {reset}"));
    }
    // Each finding's notes repeat these, so they are listed here only without findings.
    if report.findings.is_empty() {
        lines.extend(
            report
                .notes
                .iter()
                .map(|note| format!("Note: {}", one_line(note))),
        );
    }
    lines
}

fn statement_lines(report: &Report) -> Vec<String> {
    let mut lines = vec![format!(
        "Statements: {} ran in the window, {} analyzed.",
        report.statements.len(),
        report.findings.len()
    )];
    if report.findings.is_empty() {
        lines.push("None took enough of the execution time to be analyzed.".to_string());
        return lines;
    }
    lines.push(format!(
        "{:>3}  {:>7}  {:>8}  {:>9}  {:<22}  STATEMENT",
        "#", "SHARE", "CALLS/S", "MEAN MS", "VERDICT"
    ));
    for (index, finding) in report.findings.iter().enumerate() {
        let evidence = &finding.evidence;
        lines.push(format!(
            "{:>3}  {:>5.1} %  {:>8.1}  {:>9.2}  {:<22}  {}",
            index + 1,
            evidence.share_of_time_pct,
            evidence.calls_per_second,
            evidence.mean_time_ms,
            finding.verdict,
            shorten(&evidence.statement, STATEMENT_COLUMNS)
        ));
    }
    lines
}

fn finding_lines(number: usize, finding: &FindingReport) -> Vec<String> {
    let evidence = &finding.evidence;
    let subject = match (&finding.table, finding.query_id) {
        (Some(table), _) => table.clone(),
        (None, Some(query_id)) => format!("statement {query_id}"),
        (None, None) => "statement".to_string(),
    };
    let mut lines = vec![
        format!("{number}. {subject}: {}", severity_name(finding)),
        format!("   {}", finding.title),
    ];
    match (&finding.ddl, &finding.reason) {
        (Some(ddl), _) => lines.push(labelled("Proposed", ddl)),
        (None, Some(reason)) => lines.push(labelled("No index", reason)),
        (None, None) => {}
    }
    lines.push(labelled("Statement", &statement_with_id(evidence)));
    lines.push(labelled("Load", &load(evidence)));
    lines.extend(table(evidence).map(|text| labelled("Table", &text)));
    lines.extend(cost(evidence).map(|text| labelled("Cost", &text)));
    lines.extend(saving(evidence).map(|text| labelled("Saving", &text)));
    lines.extend(notes(evidence));
    lines
}

fn severity_name(finding: &FindingReport) -> String {
    serde_json::to_value(finding.severity)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn labelled(label: &str, text: &str) -> String {
    format!("   {:<11}{text}", format!("{label}:"))
}

fn statement_with_id(evidence: &Evidence) -> String {
    let statement = one_line(&evidence.statement);
    match evidence.query_id {
        Some(query_id) => format!("{statement} (query id {query_id})"),
        None => statement,
    }
}

fn load(evidence: &Evidence) -> String {
    format!(
        "{:.1} calls/s, {:.2} ms mean, {:.1} % of execution time, {:.1} rows per call",
        evidence.calls_per_second,
        evidence.mean_time_ms,
        evidence.share_of_time_pct,
        evidence.rows_per_call
    )
}

fn table(evidence: &Evidence) -> Option<String> {
    let mut parts = vec![evidence.table.clone()?];
    if let Some(size) = evidence.table_size_bytes {
        parts.push(bytes(size));
    }
    if let Some(rows) = evidence.table_rows {
        parts.push(format!("{} rows", thousands(rows)));
    }
    if let Some(scans) = evidence.seq_scans_in_window {
        parts.push(format!(
            "{} sequential scans in the window",
            thousands(scans)
        ));
    }
    Some(parts.join(", "))
}

fn cost(evidence: &Evidence) -> Option<String> {
    let before = evidence.cost_before?;
    let mut text = match (evidence.cost_with_index, evidence.cost_reduction_pct) {
        (Some(after), Some(cut)) => {
            format!("{before:.1} -> {after:.1} with the index ({cut:.1} % less)")
        }
        (Some(after), None) => format!("{before:.1} -> {after:.1} with the index"),
        _ => format!("{before:.1} as planned now"),
    };
    if let Some(size) = evidence.estimated_index_bytes {
        text.push_str(&format!(", index about {}", bytes(size)));
    }
    Some(text)
}

fn saving(evidence: &Evidence) -> Option<String> {
    let saving = evidence.estimated_saving_ms_per_second?;
    Some(format!(
        "about {saving:.1} ms of execution time per second (estimate)"
    ))
}

fn notes(evidence: &Evidence) -> Vec<String> {
    if evidence.notes.is_empty() {
        return Vec::new();
    }
    let mut lines = vec!["   Notes:".to_string()];
    lines.extend(
        evidence
            .notes
            .iter()
            .map(|note| format!("     - {}", one_line(note))),
    );
    lines
}

fn proposal_count(report: &Report) -> String {
    let proposals = report.findings.iter().filter(|f| f.ddl.is_some()).count();
    match proposals {
        0 => "No index proposed.".to_string(),
        1 => "1 index proposed.".to_string(),
        count => format!("{count} indexes proposed."),
    }
}

/// Collapses whitespace, including the newlines of a quoted statement, to single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns `text` on one line, cut to `width` characters with an ellipsis.
fn shorten(text: &str, width: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= width {
        return line;
    }
    let prefix: String = line.chars().take(width.saturating_sub(3)).collect();
    format!("{prefix}...")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use contracts::Severity;
    use runner::investigate::report::{REPORT_VERSION, ServerRoleReport, WindowReport};

    use super::*;

    fn proposal() -> FindingReport {
        FindingReport {
            query_id: Some(42),
            table: Some("public.orders".to_string()),
            severity: Severity::Critical,
            title: "Missing index on public.orders".to_string(),
            summary: String::new(),
            verdict: "index_proposed".to_string(),
            reason: None,
            ddl: Some("CREATE INDEX CONCURRENTLY ix ON public.orders (customer_id)".to_string()),
            evidence: Evidence {
                statement: "SELECT *\n  FROM orders WHERE customer_id = $1".to_string(),
                query_id: Some(42),
                calls_per_second: 52.0,
                mean_time_ms: 14.2,
                share_of_time_pct: 81.25,
                table: Some("public.orders".to_string()),
                table_size_bytes: Some(9_017_344),
                table_rows: Some(200_000),
                seq_scans_in_window: Some(520),
                cost_before: Some(3200.44),
                cost_with_index: Some(12.4),
                cost_reduction_pct: Some(99.61),
                estimated_index_bytes: Some(4_620_288),
                estimated_saving_ms_per_second: Some(700.25),
                notes: vec!["No other index was close.".to_string()],
                ..Evidence::default()
            },
        }
    }

    fn report(findings: Vec<FindingReport>) -> Report {
        Report {
            version: REPORT_VERSION,
            window: WindowReport {
                started_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
                ended_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 10).unwrap(),
                seconds: 10.0,
            },
            server_role: ServerRoleReport {
                role: "primary".to_string(),
                primary: None,
            },
            counter_reset: None,
            shortened_by: Some("pg_stat_statements was reset at 12:00:02".to_string()),
            discarded_windows: vec!["pg_stat_statements was reset".to_string()],
            notes: vec!["The window is short.".to_string()],
            statements: Vec::new(),
            findings,
        }
    }

    #[test]
    fn proposal_shows_ddl_and_evidence() {
        let text = render(&report(vec![proposal()]));

        assert!(text.contains("1. public.orders: critical"), "{text}");
        assert!(
            text.contains("   Proposed:  CREATE INDEX CONCURRENTLY ix"),
            "{text}"
        );
        assert!(text.contains("52.0 calls/s, 14.20 ms mean, 81.2 % of execution time"));
        assert!(text.contains("public.orders, 9.0 MB, 200,000 rows, 520 sequential scans"));
        assert!(text.contains("3200.4 -> 12.4 with the index (99.6 % less), index about 4.6 MB"));
        assert!(
            text.contains("about 700.2 ms of execution time per second"),
            "{text}"
        );
        assert!(text.contains("     - No other index was close."), "{text}");
        assert!(text.contains("1 index proposed."), "{text}");
    }

    #[test]
    fn window_and_statement_list() {
        let text = render(&report(vec![proposal()]));

        assert!(text.starts_with("Window: 10.0 s, 2025-03-01 12:00:00 UTC to 12:00:10 UTC\n"));
        assert!(text.contains("Discarded an earlier window: pg_stat_statements was reset"));
        assert!(text.contains("The window starts at a reset: pg_stat_statements was reset at"));
        assert!(!text.contains("Note: The window is short."), "{text}");
        let row = text
            .lines()
            .find(|line| line.trim_start().starts_with("1  "))
            .unwrap_or_else(|| panic!("no statement row in {text}"));
        assert!(row.contains("index_proposed"), "{row}");
        assert!(
            row.ends_with("SELECT * FROM orders WHERE customer_id = $1"),
            "{row}"
        );
    }

    #[test]
    fn refusal_shows_reason() {
        let mut refusal = proposal();
        refusal.ddl = None;
        refusal.verdict = "no_sequential_scan".to_string();
        refusal.reason = Some("its plan already reads every table through an index".to_string());
        let text = render(&report(vec![refusal]));

        assert!(
            text.contains("   No index:  its plan already reads every table"),
            "{text}"
        );
        assert!(!text.contains("Proposed:"), "{text}");
        assert!(text.contains("No index proposed."), "{text}");
    }

    #[test]
    fn empty_report_lists_window_notes() {
        let text = render(&report(Vec::new()));

        assert!(
            text.contains("Statements: 0 ran in the window, 0 analyzed."),
            "{text}"
        );
        assert!(
            text.contains("None took enough of the execution time"),
            "{text}"
        );
        assert!(text.contains("Note: The window is short."), "{text}");
    }

    #[test]
    fn standby_names_primary() {
        let mut standby = report(Vec::new());
        standby.server_role.role = "standby".to_string();
        standby.server_role.primary = Some("db-primary:5432".to_string());
        let text = render(&standby);

        assert!(
            text.contains("Server: a standby of db-primary:5432;"),
            "{text}"
        );
        assert!(!render(&report(Vec::new())).contains("Server:"));
    }

    #[test]
    fn long_statement_is_shortened() {
        let statement = format!("SELECT {}", "x, ".repeat(40));
        let short = shorten(&statement, 20);

        assert_eq!(short.chars().count(), 20);
        assert!(short.ends_with("..."));
        assert_eq!(shorten("SELECT\n 1", 20), "SELECT 1");
    }
}
