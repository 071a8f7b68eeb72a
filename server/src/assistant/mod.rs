//! The always-allow assistant: a deterministic risk assessment of letting DBAgent build indexes
//! on a server without asking, from the issue's evidence and the server facts the runner
//! gathered.
//!
//! - [`locks`]: what `CREATE INDEX CONCURRENTLY` blocks, waits for, and leaves behind on failure.
//! - [`tables`]: the issue's table and the largest tables a permission would cover.
//! - [`capacity`]: disk, memory, build time, vacuum and standbys.
//! - [`limits`]: the limits it proposes.
//! - [`format`]: figures as the sentences show them.
//!
//! Every rule is a pure function of the facts, so the same issue always gets the same points.

mod capacity;
mod format;
mod limits;
mod locks;
mod tables;

use contracts::api::{RiskAssessment, RiskLevel, RiskPoint};
use contracts::{CreateIndex, Evidence, RiskFacts, Server};

/// Figures that the rules read, gathered once from the issue and the server record.
struct Facts<'a> {
    server: &'a Server,
    evidence: &'a Evidence,
    action: &'a CreateIndex,
    /// Schema-qualified table of the proposed index, such as `public.orders`.
    table: String,
    /// `pg_table_size` of the table: heap and TOAST, without indexes.
    table_bytes: Option<u64>,
    /// HypoPG's estimate of the new index's size.
    index_bytes: Option<u64>,
    risk: Option<&'a RiskFacts>,
}

impl<'a> Facts<'a> {
    fn new(server: &'a Server, evidence: &'a Evidence, action: &'a CreateIndex) -> Facts<'a> {
        let table = format!("{}.{}", action.schema, action.table);
        let risk = evidence.risk.as_ref();
        let listed_bytes = risk.and_then(|risk| {
            let listed = risk.largest_tables.iter().find(|t| t.name == table)?;
            Some(listed.total_bytes)
        });
        Facts {
            server,
            evidence,
            action,
            table,
            // The total size with indexes replaces the size without them when the investigation
            // did not record that, because it is an upper bound.
            table_bytes: evidence.table_size_bytes.or(listed_bytes),
            index_bytes: evidence.estimated_index_bytes,
            risk,
        }
    }
}

/// The strength with which a finding argues for caution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Weight {
    Info,
    Caution,
    /// Building here would fail or harm the server.
    Blocking,
}

/// One point of the assessment before it becomes a [`RiskPoint`].
#[derive(Debug)]
struct Finding {
    topic: &'static str,
    text: String,
    weight: Weight,
    /// The cause in a few words, for the headline of a blocking finding.
    reason: Option<String>,
}

impl Finding {
    fn info(topic: &'static str, text: String) -> Finding {
        Finding {
            topic,
            text,
            weight: Weight::Info,
            reason: None,
        }
    }

    fn caution(topic: &'static str, text: String) -> Finding {
        Finding {
            weight: Weight::Caution,
            ..Finding::info(topic, text)
        }
    }

    fn blocking(topic: &'static str, text: String, reason: String) -> Finding {
        Finding {
            weight: Weight::Blocking,
            reason: Some(reason),
            ..Finding::info(topic, text)
        }
    }
}

/// Assesses the risk of always allowing index builds like `action` on `server`, and proposes
/// limits for the permission.
pub fn assess(server: &Server, evidence: &Evidence, action: &CreateIndex) -> RiskAssessment {
    let facts = Facts::new(server, evidence, action);
    let proposal = limits::propose(&facts);
    let max_table_bytes = proposal.request.limits.max_table_bytes;

    let mut findings = vec![locks::lock_level(&facts), locks::waits(&facts)];
    findings.push(tables::issue_table(&facts));
    match facts.risk {
        Some(risk) => {
            findings.push(tables::largest(&facts, risk, max_table_bytes));
            findings.extend(capacity::findings(&facts, risk));
        }
        None => findings.push(missing_server_facts()),
    }
    findings.push(locks::failure(&facts));
    findings.push(Finding::info("Limits", proposal.explanation));

    let level = level(&findings);
    RiskAssessment {
        level,
        headline: headline(level, &findings, &facts.action.schema),
        points: findings.into_iter().map(into_point).collect(),
        proposed: proposal.request,
    }
}

fn missing_server_facts() -> Finding {
    let text = "The runner recorded no server facts with this issue, so free disk, \
                maintenance_work_mem, the build time, the standbys and the largest tables are \
                unknown. Check them on the server before granting."
        .to_string();
    Finding::caution("Server facts", text)
}

/// Judges High when any finding blocks, Medium when any calls for caution, else Low.
fn level(findings: &[Finding]) -> RiskLevel {
    let heaviest = findings.iter().map(|finding| finding.weight).max();
    match heaviest {
        Some(Weight::Blocking) => RiskLevel::High,
        Some(Weight::Caution) => RiskLevel::Medium,
        Some(Weight::Info) | None => RiskLevel::Low,
    }
}

fn headline(level: RiskLevel, findings: &[Finding], schema: &str) -> String {
    match level {
        RiskLevel::High => {
            let reason = findings
                .iter()
                .find_map(|finding| finding.reason.as_deref())
                .unwrap_or("a check failed");
            format!("High risk: {reason}.")
        }
        RiskLevel::Medium => {
            let topics: Vec<String> = findings
                .iter()
                .filter(|finding| finding.weight == Weight::Caution)
                .map(|finding| finding.topic.to_lowercase())
                .collect();
            format!(
                "Medium risk: weigh the points on {} before allowing index builds in schema \
                 {schema} without asking.",
                join_words(&topics)
            )
        }
        RiskLevel::Low => format!(
            "Low risk: index builds like this one in schema {schema} block no reads or writes, \
             and no check raised a concern."
        ),
    }
}

/// Joins words as a sentence lists them: `a`, `a and b`, `a, b and c`.
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn into_point(finding: Finding) -> RiskPoint {
    RiskPoint {
        topic: finding.topic.to_string(),
        text: finding.text,
        concern: finding.weight > Weight::Info,
    }
}

#[cfg(test)]
mod tests;
