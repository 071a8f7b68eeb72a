//! Validation of the request body that grants a standing permission.
//!
//! `POST /api/issues/{id}/always-allow` and `POST /api/instructions` share it, so both check
//! limits the same way before anything is stored.

use std::collections::HashSet;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use contracts::api::{GrantRequest, LimitsRequest, WindowRequest};
use contracts::{
    ActionKind, Instruction, InstructionId, InstructionScope, Limits, ServerId, TimeWindow,
};

use crate::error::AppError;

/// PostgreSQL truncates identifiers longer than this many bytes.
const MAX_SCHEMA_NAME_BYTES: usize = 63;

/// Maximum of `expires_in_hours`: ten years.
const MAX_EXPIRY_HOURS: u32 = 24 * 365 * 10;

/// Fields of a grant that the handler sets: id, server, action and creator.
pub struct GrantTarget {
    pub id: InstructionId,
    pub server_id: ServerId,
    pub action: ActionKind,
    pub created_by: String,
}

/// Validates every field of a grant and builds the instruction, naming the first invalid field.
pub fn into_instruction(
    request: GrantRequest,
    target: GrantTarget,
    now: DateTime<Utc>,
) -> Result<Instruction, AppError> {
    let schemas = validate_schemas(request.scope.schemas)?;
    let limits = validate_limits(request.limits)?;
    let expires_at = expiry(request.expires_at, request.expires_in_hours, now)?;
    Ok(Instruction {
        id: target.id,
        action: target.action,
        scope: InstructionScope {
            server_id: target.server_id,
            schemas,
        },
        limits,
        created_by: target.created_by,
        created_at: now,
        expires_at,
        revoked_at: None,
        revoked_by: None,
    })
}

fn validate_schemas(schemas: Vec<String>) -> Result<Vec<String>, AppError> {
    let mut seen = HashSet::new();
    for (index, schema) in schemas.iter().enumerate() {
        let field = format!("scope.schemas[{index}]");
        if schema.is_empty() {
            return Err(AppError::invalid(&field, "must not be empty"));
        }
        if schema.len() > MAX_SCHEMA_NAME_BYTES {
            let problem =
                format!("{schema:?} is longer than PostgreSQL's 63-byte identifier limit");
            return Err(AppError::invalid(&field, problem));
        }
        if !seen.insert(schema.as_str()) {
            return Err(AppError::invalid(
                &field,
                format!("{schema:?} is listed twice"),
            ));
        }
    }
    Ok(schemas)
}

fn validate_limits(limits: LimitsRequest) -> Result<Limits, AppError> {
    if limits.max_table_bytes == Some(0) {
        return Err(AppError::invalid(
            "limits.max_table_bytes",
            "must be at least 1",
        ));
    }
    if limits.max_actions_per_day == Some(0) {
        return Err(AppError::invalid(
            "limits.max_actions_per_day",
            "must be at least 1",
        ));
    }
    let time_window = limits.time_window.map(validate_window).transpose()?;
    Ok(Limits {
        max_table_bytes: limits.max_table_bytes,
        time_window,
        max_actions_per_day: limits.max_actions_per_day,
    })
}

fn validate_window(window: WindowRequest) -> Result<TimeWindow, AppError> {
    let start = parse_clock_time("limits.time_window.start", &window.start)?;
    let end = parse_clock_time("limits.time_window.end", &window.end)?;
    if start == end {
        return Err(AppError::invalid(
            "limits.time_window.end",
            "must differ from start, because an empty window never allows an action",
        ));
    }
    Ok(TimeWindow { start, end })
}

/// Parses `HH:MM` strictly: two digits each, hour 00 to 23, minute 00 to 59.
fn parse_clock_time(field: &str, text: &str) -> Result<NaiveTime, AppError> {
    let invalid = || {
        AppError::invalid(
            field,
            format!("{text:?} is not a time of day; use HH:MM from 00:00 to 23:59"),
        )
    };
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 5
        && bytes[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        return Err(invalid());
    }
    let hour: u32 = text[0..2].parse().map_err(|_| invalid())?;
    let minute: u32 = text[3..5].parse().map_err(|_| invalid())?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(invalid)
}

fn expiry(
    at: Option<DateTime<Utc>>,
    in_hours: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    match (at, in_hours) {
        (Some(_), Some(_)) => Err(AppError::invalid(
            "expires_in_hours",
            "set either expires_at or expires_in_hours, not both",
        )),
        (Some(at), None) if at <= now => Err(AppError::invalid(
            "expires_at",
            format!("{} is not in the future", at.to_rfc3339()),
        )),
        (Some(at), None) => Ok(Some(at)),
        (None, Some(hours)) if hours == 0 || hours > MAX_EXPIRY_HOURS => Err(AppError::invalid(
            "expires_in_hours",
            format!("{hours} is out of range; use 1 to {MAX_EXPIRY_HOURS}"),
        )),
        (None, Some(hours)) => Ok(Some(now + TimeDelta::hours(i64::from(hours)))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: AppError) -> Option<String> {
        match error {
            AppError::BadRequest { field, .. } => field,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn clock_times_parse_strictly() {
        let parse = |text| parse_clock_time("t", text);
        assert_eq!(parse("00:00").unwrap(), NaiveTime::MIN);
        assert_eq!(
            parse("23:59").unwrap(),
            NaiveTime::from_hms_opt(23, 59, 0).unwrap()
        );
        for bad in [
            "24:00", "25:00", "12:60", "1:00", "01:00:00", "ab:cd", "", "+1:00",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn empty_window_is_rejected() {
        let window = WindowRequest {
            start: "03:00".to_string(),
            end: "03:00".to_string(),
        };
        let field = field_of(validate_window(window).unwrap_err());
        assert_eq!(field.as_deref(), Some("limits.time_window.end"));
    }

    #[test]
    fn zero_limits_are_rejected() {
        let limits = LimitsRequest {
            max_table_bytes: Some(0),
            ..LimitsRequest::default()
        };
        let field = field_of(validate_limits(limits).unwrap_err());
        assert_eq!(field.as_deref(), Some("limits.max_table_bytes"));
    }

    #[test]
    fn duplicate_schema_is_rejected() {
        let schemas = vec!["public".to_string(), "public".to_string()];
        let field = field_of(validate_schemas(schemas).unwrap_err());
        assert_eq!(field.as_deref(), Some("scope.schemas[1]"));
    }

    #[test]
    fn expiry_rules() {
        let now = Utc::now();
        assert!(expiry(Some(now), None, now).is_err());
        assert!(expiry(Some(now), Some(1), now).is_err());
        assert!(expiry(None, Some(0), now).is_err());
        assert_eq!(
            expiry(None, Some(2), now).unwrap(),
            Some(now + TimeDelta::hours(2))
        );
        assert_eq!(expiry(None, None, now).unwrap(), None);
    }
}
