use chrono::{DateTime, NaiveTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ActionKind, InstructionId, ServerId};

/// A standing permission: "always allow" one kind of action within a scope and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instruction {
    pub id: InstructionId,
    pub action: ActionKind,
    pub scope: InstructionScope,
    pub limits: Limits,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// After this time the instruction no longer applies; `None` means it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// The server and schemas an instruction applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstructionScope {
    pub server_id: ServerId,
    /// Schemas whose tables are covered; empty means every schema.
    pub schemas: Vec<String>,
}

/// Limits that must hold when an action runs, not only when it was proposed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limits {
    /// Largest table, in bytes, that an index may be built on without asking.
    pub max_table_bytes: Option<u64>,
    /// Hours of the day (UTC) in which actions may start.
    pub time_window: Option<TimeWindow>,
    /// Actions this instruction allows without asking in one UTC day.
    pub max_actions_per_day: Option<u32>,
}

/// A daily window in UTC; a window whose end is before its start spans midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl TimeWindow {
    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// Returns the first moment at or after `now` when the window opens.
    pub fn next_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.date_naive().and_time(self.start).and_utc();
        if today >= now {
            today
        } else {
            today + chrono::Duration::days(1)
        }
    }
}

impl Instruction {
    /// Tells whether the instruction is neither revoked nor expired at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        let expired = self.expires_at.is_some_and(|expiry| now >= expiry);
        self.revoked_at.is_none() && !expired
    }

    /// Tells whether the instruction covers this kind of action on this table.
    pub fn covers(&self, action: ActionKind, server_id: &ServerId, schema: &str) -> bool {
        let schema_covered =
            self.scope.schemas.is_empty() || self.scope.schemas.iter().any(|s| s == schema);
        self.action == action && &self.scope.server_id == server_id && schema_covered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, 0, 0).unwrap()
    }

    #[test]
    fn next_start_today_or_tomorrow() {
        let window = TimeWindow {
            start: at(22),
            end: at(6),
        };
        let day = DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .date_naive();
        let morning = day.and_time(at(9)).and_utc();
        assert_eq!(window.next_start(morning), day.and_time(at(22)).and_utc());
        let night = day.and_time(at(23)).and_utc();
        let tomorrow = day.succ_opt().unwrap().and_time(at(22)).and_utc();
        assert_eq!(window.next_start(night), tomorrow);
    }

    #[test]
    fn window_within_a_day() {
        let window = TimeWindow {
            start: at(1),
            end: at(5),
        };
        assert!(window.contains(at(1)));
        assert!(window.contains(at(4)));
        assert!(!window.contains(at(5)));
        assert!(!window.contains(at(12)));
    }

    #[test]
    fn window_across_midnight() {
        let window = TimeWindow {
            start: at(22),
            end: at(2),
        };
        assert!(window.contains(at(23)));
        assert!(window.contains(at(0)));
        assert!(!window.contains(at(2)));
        assert!(!window.contains(at(12)));
    }

    #[test]
    fn revoked_or_expired_instruction_is_inactive() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::days(10);
        let mut instruction = Instruction {
            id: InstructionId::new(),
            action: ActionKind::CreateIndex,
            scope: InstructionScope {
                server_id: "local-target".into(),
                schemas: vec!["public".to_string()],
            },
            limits: Limits::default(),
            created_by: "dba@example.com".to_string(),
            created_at: DateTime::UNIX_EPOCH,
            expires_at: Some(now + chrono::Duration::days(1)),
            revoked_at: None,
            revoked_by: None,
        };
        assert!(instruction.is_active(now));
        assert!(!instruction.is_active(now + chrono::Duration::days(2)));

        instruction.revoked_at = Some(now);
        assert!(!instruction.is_active(now));
    }

    #[test]
    fn scope_limits_schemas() {
        let instruction = Instruction {
            id: InstructionId::new(),
            action: ActionKind::CreateIndex,
            scope: InstructionScope {
                server_id: "a".into(),
                schemas: vec!["public".to_string()],
            },
            limits: Limits::default(),
            created_by: "dba".to_string(),
            created_at: DateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        assert!(instruction.covers(ActionKind::CreateIndex, &"a".into(), "public"));
        assert!(!instruction.covers(ActionKind::CreateIndex, &"a".into(), "billing"));
        assert!(!instruction.covers(ActionKind::CreateIndex, &"b".into(), "public"));
    }
}
