//! Whether a standing permission lets the runner act without asking.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use contracts::{ActionKind, Instruction, InstructionId, RunId, ServerId, TimeWindow};
use control::ControlPlane;

/// The outcome of the autonomy check.
#[derive(Debug, Clone, PartialEq)]
pub enum Autonomy {
    /// This instruction covers the action and its limits hold now.
    Allowed(Instruction),
    /// An instruction allows it once its time window opens at `at`, and no instruction allows
    /// it now. The limits are checked again when the window opens.
    Scheduled {
        instruction: Instruction,
        at: DateTime<Utc>,
        reasons: Vec<String>,
    },
    /// No instruction allows it. Each reason explains why one instruction does not apply.
    AskFirst { reasons: Vec<String> },
}

/// Facts the limits are checked against, taken when the check runs.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now: DateTime<Utc>,
    pub table_bytes: Option<u64>,
    /// Actions taken today (UTC) without asking, per instruction that allowed them.
    pub actions_today: HashMap<InstructionId, u32>,
}

/// Checks every instruction for the server against an action of kind `action` on a table in
/// `schema` and the facts, for the run `run_id`, which does not count against its own limit.
pub async fn check(
    control: &ControlPlane,
    server_id: &ServerId,
    run_id: RunId,
    action: ActionKind,
    schema: &str,
    table_bytes: Option<u64>,
) -> Result<Autonomy, control::Error> {
    let now = Utc::now();
    let facts = Facts {
        now,
        table_bytes,
        actions_today: autonomous_runs_today(control, server_id, run_id, now).await?,
    };
    let instructions = control.instructions(server_id).await?;
    Ok(decide(&instructions, action, server_id, schema, &facts))
}

/// Picks the first instruction that covers the action and whose limits hold. Failing that,
/// schedules the action for the earliest window of an instruction whose other limits hold.
pub fn decide(
    instructions: &[Instruction],
    action: ActionKind,
    server_id: &ServerId,
    schema: &str,
    facts: &Facts,
) -> Autonomy {
    let mut reasons = Vec::new();
    let mut earliest: Option<(&Instruction, DateTime<Utc>)> = None;
    for instruction in instructions {
        let rejected = if !instruction.is_active(facts.now) {
            Some("it is revoked or expired".to_string())
        } else if instruction.action != action {
            Some(format!(
                "it allows {}, not {}",
                instruction.action.description(),
                action.description()
            ))
        } else if !instruction.covers(action, server_id, schema) {
            Some(format!("it does not cover schema {schema}"))
        } else if let Some(reason) = limits_violation(instruction, facts) {
            Some(reason)
        } else if let Some(window) = closed_window(instruction, facts.now) {
            let opens = window.next_start(facts.now);
            let expires_first = instruction.expires_at.is_some_and(|expiry| expiry <= opens);
            if !expires_first && earliest.is_none_or(|(_, at)| opens < at) {
                earliest = Some((instruction, opens));
            }
            Some(window_reason(facts.now, window, expires_first))
        } else {
            None
        };
        match rejected {
            None => return Autonomy::Allowed(instruction.clone()),
            Some(reason) => reasons.push(format!(
                "Instruction {} does not apply: {reason}.",
                instruction.id
            )),
        }
    }
    if let Some((instruction, at)) = earliest {
        return Autonomy::Scheduled {
            instruction: instruction.clone(),
            at,
            reasons,
        };
    }
    if reasons.is_empty() {
        reasons.push("No always-allow instruction exists for this server.".to_string());
    }
    Autonomy::AskFirst { reasons }
}

/// Returns the instruction's time window when `now` is outside it.
fn closed_window(instruction: &Instruction, now: DateTime<Utc>) -> Option<TimeWindow> {
    instruction
        .limits
        .time_window
        .filter(|window| !window.contains(now.time()))
}

fn window_reason(now: DateTime<Utc>, window: TimeWindow, expires_first: bool) -> String {
    let outside = format!(
        "it is {} UTC, outside the window {}-{}",
        now.format("%H:%M"),
        window.start.format("%H:%M"),
        window.end.format("%H:%M")
    );
    if expires_first {
        format!("{outside}, and it expires before the window opens")
    } else {
        outside
    }
}

/// Returns why the instruction's size or daily limit does not hold, or `None` when both hold.
/// The time window is checked apart, because a closed window delays the action instead.
fn limits_violation(instruction: &Instruction, facts: &Facts) -> Option<String> {
    let limits = &instruction.limits;
    if let Some(max_bytes) = limits.max_table_bytes {
        match facts.table_bytes {
            None => return Some("the table's size is unknown".to_string()),
            Some(bytes) if bytes > max_bytes => {
                return Some(format!(
                    "the table has {bytes} bytes, above the limit of {max_bytes}"
                ));
            }
            Some(_) => {}
        }
    }
    let actions_today = facts
        .actions_today
        .get(&instruction.id)
        .copied()
        .unwrap_or(0);
    if let Some(max_actions) = limits.max_actions_per_day
        && actions_today >= max_actions
    {
        return Some(format!(
            "{actions_today} actions ran under it today, the limit is {max_actions}"
        ));
    }
    None
}

/// Counts today's runs that acted without asking, per instruction, whatever their outcome, so
/// that a build that keeps failing cannot retry without end.
async fn autonomous_runs_today(
    control: &ControlPlane,
    server_id: &ServerId,
    current: RunId,
    now: DateTime<Utc>,
) -> Result<HashMap<InstructionId, u32>, control::Error> {
    let today = now.date_naive();
    let mut counts = HashMap::new();
    for run in control.runs(server_id).await? {
        let Some(instruction_id) = run.instruction_id else {
            continue;
        };
        if run.id != current && run.created_at.date_naive() == today {
            *counts.entry(instruction_id).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;
    use contracts::{InstructionId, InstructionScope, Limits, TimeWindow};

    use super::*;

    fn instruction(limits: Limits) -> Instruction {
        Instruction {
            id: InstructionId::new(),
            action: ActionKind::CreateIndex,
            scope: InstructionScope {
                server_id: "db1".into(),
                schemas: Vec::new(),
            },
            limits,
            created_by: "dba".to_string(),
            created_at: DateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
        }
    }

    /// Facts at `hour` UTC, with `actions_today` actions already taken under `given`.
    fn facts(hour: u32, table_bytes: u64, given: &Instruction, actions_today: u32) -> Facts {
        let now = DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .date_naive();
        Facts {
            now: now.and_hms_opt(hour, 0, 0).unwrap().and_utc(),
            table_bytes: Some(table_bytes),
            actions_today: HashMap::from([(given.id, actions_today)]),
        }
    }

    fn limits() -> Limits {
        Limits {
            max_table_bytes: Some(1 << 30),
            time_window: Some(TimeWindow {
                start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            }),
            max_actions_per_day: Some(2),
        }
    }

    #[test]
    fn limits_that_hold_allow() {
        let given = [instruction(limits())];
        let outcome = decide(
            &given,
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &facts(10, 1 << 20, &given[0], 1),
        );
        assert_eq!(outcome, Autonomy::Allowed(given[0].clone()));
    }

    #[test]
    fn instruction_allows_only_its_action() {
        let builds = [instruction(Limits::default())];
        let facts = facts(10, 1, &builds[0], 0);
        let Autonomy::AskFirst { reasons } = decide(
            &builds,
            ActionKind::DropIndex,
            &"db1".into(),
            "public",
            &facts,
        ) else {
            panic!("an instruction for index builds allowed a drop");
        };
        assert!(
            reasons[0].contains("it allows index builds, not index drops"),
            "{reasons:?}"
        );

        let mut drops = instruction(Limits::default());
        drops.action = ActionKind::DropIndex;
        let outcome = decide(
            std::slice::from_ref(&drops),
            ActionKind::DropIndex,
            &"db1".into(),
            "public",
            &facts,
        );
        assert_eq!(outcome, Autonomy::Allowed(drops));
    }

    #[test]
    fn each_limit_can_refuse() {
        let given = [instruction(limits())];
        let cases = [
            (facts(10, 2 << 30, &given[0], 0), "above the limit"),
            (facts(10, 1 << 20, &given[0], 2), "the limit is 2"),
        ];
        for (facts, expected) in cases {
            let Autonomy::AskFirst { reasons } = decide(
                &given,
                ActionKind::CreateIndex,
                &"db1".into(),
                "public",
                &facts,
            ) else {
                panic!("expected a refusal for {expected}");
            };
            assert!(reasons[0].contains(expected), "{reasons:?}");
        }
    }

    #[test]
    fn closed_window_schedules_for_its_start() {
        let given = [instruction(limits())];
        let evening = facts(20, 1 << 20, &given[0], 0);
        let Autonomy::Scheduled { at, reasons, .. } = decide(
            &given,
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &evening,
        ) else {
            panic!("expected a scheduled action");
        };
        let tomorrow = evening.now.date_naive().succ_opt().unwrap();
        assert_eq!(at, tomorrow.and_hms_opt(8, 0, 0).unwrap().and_utc());
        assert!(
            reasons[0].contains("outside the window 08:00-18:00"),
            "{reasons:?}"
        );
    }

    #[test]
    fn closed_window_with_other_limit_asks() {
        let given = [instruction(limits())];
        let evening = facts(20, 2 << 30, &given[0], 0);
        let outcome = decide(
            &given,
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &evening,
        );
        assert!(matches!(outcome, Autonomy::AskFirst { .. }), "{outcome:?}");
    }

    #[test]
    fn expiry_before_window_asks() {
        let mut expiring = instruction(limits());
        let evening = facts(20, 1 << 20, &expiring, 0);
        expiring.expires_at = Some(evening.now + chrono::Duration::hours(2));
        let Autonomy::AskFirst { reasons } = decide(
            &[expiring],
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &evening,
        ) else {
            panic!("expected a request for approval");
        };
        assert!(
            reasons[0].contains("expires before the window opens"),
            "{reasons:?}"
        );
    }

    #[test]
    fn revoked_instruction_does_not_apply() {
        let mut revoked = instruction(Limits::default());
        revoked.revoked_at = Some(DateTime::UNIX_EPOCH);
        let facts = facts(10, 1, &revoked, 0);
        let outcome = decide(
            &[revoked],
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &facts,
        );
        assert!(matches!(outcome, Autonomy::AskFirst { .. }));
    }

    #[test]
    fn other_server_does_not_apply() {
        let given = [instruction(Limits::default())];
        let outcome = decide(
            &given,
            ActionKind::CreateIndex,
            &"db2".into(),
            "public",
            &facts(10, 1, &given[0], 0),
        );
        assert!(matches!(outcome, Autonomy::AskFirst { .. }));
    }

    #[test]
    fn no_instruction_says_so() {
        let unrelated = instruction(Limits::default());
        let Autonomy::AskFirst { reasons } = decide(
            &[],
            ActionKind::CreateIndex,
            &"db1".into(),
            "public",
            &facts(10, 1, &unrelated, 0),
        ) else {
            panic!("expected a refusal");
        };
        assert!(reasons[0].contains("No always-allow instruction"));
    }
}
