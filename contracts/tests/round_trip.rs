use chrono::{DateTime, Utc};
use contracts::*;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

#[test]
fn trigger_envelope_round_trips() {
    let run_id = RunId::new();
    let trigger = Trigger {
        run_id,
        server_id: "local-target".into(),
        kind: TriggerKind::Start,
    };
    let envelope = Envelope::new(MessageId::new(), run_id, at(1_800_000_000), trigger);

    let json = serde_json::to_string(&envelope).unwrap();
    let back: Envelope<Trigger> = serde_json::from_str(&json).unwrap();

    assert_eq!(back, envelope);
    assert_eq!(back.schema_version, SCHEMA_VERSION);
}

#[test]
fn completion_outcome_is_tagged() {
    let outcome = CompletionOutcome::Failed {
        reason: "lock_timeout".to_string(),
        follow_up_run_id: None,
    };
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["kind"], "failed");
    assert_eq!(json["reason"], "lock_timeout");
    assert!(json.get("follow_up_run_id").is_none(), "{json}");
}

#[test]
fn failed_completion_without_follow_up_reads() {
    let json = serde_json::json!({"kind": "failed", "reason": "lock_timeout"});
    let outcome: CompletionOutcome = serde_json::from_value(json).unwrap();
    let expected = CompletionOutcome::Failed {
        reason: "lock_timeout".to_string(),
        follow_up_run_id: None,
    };
    assert_eq!(outcome, expected);
}

#[test]
fn always_allow_carries_instruction() {
    let instruction = Instruction {
        id: InstructionId::new(),
        action: ActionKind::CreateIndex,
        scope: InstructionScope {
            server_id: "local-target".into(),
            schemas: Vec::new(),
        },
        limits: Limits {
            max_table_bytes: Some(10 << 30),
            time_window: None,
            max_actions_per_day: Some(3),
        },
        created_by: "dba@example.com".to_string(),
        created_at: at(1_800_000_000),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    let approval = Approval {
        decision: ApprovalDecision {
            run_id: RunId::new(),
            issue_id: IssueId::new(),
            decision: Decision::AlwaysAllow { instruction },
            decided_by: "dba@example.com".to_string(),
            decided_at: at(1_800_000_100),
        },
    };

    let json = serde_json::to_value(&approval).unwrap();
    assert_eq!(json["decision"]["decision"]["kind"], "always_allow");
    assert_eq!(
        json["decision"]["decision"]["instruction"]["limits"]["max_actions_per_day"],
        3
    );

    let back: Approval = serde_json::from_value(json).unwrap();
    assert_eq!(back, approval);
}

#[test]
fn unknown_issue_status_is_rejected() {
    let error = serde_json::from_str::<IssueStatus>("\"done\"").unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `done`"),
        "{error}"
    );
}
