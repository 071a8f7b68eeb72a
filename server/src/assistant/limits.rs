//! The limits the assistant proposes for the standing permission.

use contracts::ActionKind;
use contracts::api::{GrantRequest, LimitsRequest, ScopeRequest, WindowRequest};

use super::Facts;
use super::capacity::LONG_BUILD_SECONDS;
use super::format::{bytes, duration};

/// Builds a day under the permission. Enough for a few issues in a row, while a burst of
/// issues still comes back to a person.
const MAX_ACTIONS_PER_DAY: u32 = 3;

/// Thirty days: long enough to see the permission work, short enough to be reviewed again.
const EXPIRES_IN_HOURS: u32 = 720;

/// Size limit when neither the table's size nor free disk is known.
const FALLBACK_MAX_TABLE_BYTES: u64 = 1_000_000_000;

/// Window, in UTC, proposed for long builds. It is a guess at off-peak hours, so the
/// explanation tells the person to move it to this server's quietest hours.
const NIGHT_START: &str = "01:00";
const NIGHT_END: &str = "05:00";

/// A proposed grant and the reasons for its limits, in sentences.
pub(super) struct Proposal {
    pub request: GrantRequest,
    pub explanation: String,
}

pub(super) fn propose(facts: &Facts) -> Proposal {
    let free_bytes = facts
        .risk
        .and_then(|risk| risk.disk)
        .map(|disk| disk.free_bytes);
    let (max_table_bytes, size_reason) = max_table_bytes(facts.table_bytes, free_bytes);
    let build_seconds = facts
        .risk
        .and_then(|risk| risk.build_estimate.as_ref())
        .map(|estimate| estimate.seconds);
    let short_build = build_seconds.is_some_and(|seconds| seconds < LONG_BUILD_SECONDS);
    let time_window = (!short_build).then(|| WindowRequest {
        start: NIGHT_START.to_string(),
        end: NIGHT_END.to_string(),
    });

    let schema = &facts.action.schema;
    let window_reason = match build_seconds {
        _ if short_build => "Builds may start at any time of day because this one is estimated \
                             to take under 10 minutes."
            .to_string(),
        Some(seconds) => format!(
            "Builds may start only between {NIGHT_START} and {NIGHT_END} UTC because this one \
             is estimated at {}. Move the window to this server's quietest hours.",
            duration(seconds)
        ),
        None => format!(
            "Builds may start only between {NIGHT_START} and {NIGHT_END} UTC because the build \
             time is unknown."
        ),
    };
    let explanation = format!(
        "Proposed: index builds on tables in schema {schema} up to {} without indexes \
         ({size_reason}), at most {MAX_ACTIONS_PER_DAY} a day, for 30 days. {window_reason}",
        bytes(max_table_bytes)
    );
    let request = GrantRequest {
        action: Some(ActionKind::CreateIndex),
        scope: ScopeRequest {
            server_id: Some(facts.server.id.clone()),
            schemas: vec![schema.clone()],
        },
        limits: LimitsRequest {
            max_table_bytes: Some(max_table_bytes),
            time_window,
            max_actions_per_day: Some(MAX_ACTIONS_PER_DAY),
        },
        expires_at: None,
        expires_in_hours: Some(EXPIRES_IN_HOURS),
        actor: None,
    };
    Proposal {
        request,
        explanation,
    }
}

/// Proposes a round size limit of 1, 2 or 5 × 10^n bytes and returns it with its reason. The
/// limit is the first such figure at or above twice the table, so that the table may grow. It
/// stays at or below a third of free disk, so that a build on a table at the limit leaves room.
fn max_table_bytes(table_bytes: Option<u64>, free_bytes: Option<u64>) -> (u64, String) {
    let cap = free_bytes.map(|free| free / 3);
    let (wanted, reason) = match table_bytes {
        Some(table) => (
            round_up(table.saturating_mul(2)),
            format!("twice the table's {}, rounded up", bytes(table)),
        ),
        None => (
            FALLBACK_MAX_TABLE_BYTES,
            "a default, because the table's size is unknown".to_string(),
        ),
    };
    match cap {
        Some(cap) if wanted > cap => {
            let reason = format!(
                "a third of the {} of free disk, rounded down",
                bytes(free_bytes.unwrap_or(0))
            );
            (round_down(cap), reason)
        }
        _ => (wanted, reason),
    }
}

/// Returns the round figures 1, 2 and 5 × 10^n in ascending order, as far as `u64` reaches.
fn round_figures() -> impl Iterator<Item = u64> {
    let decades = std::iter::successors(Some(1u64), |power| power.checked_mul(10));
    decades.flat_map(|power| {
        [1, 2, 5]
            .into_iter()
            .filter_map(move |factor| power.checked_mul(factor))
    })
}

/// Returns the smallest round figure at or above `floor`, or `u64::MAX` past the largest.
fn round_up(floor: u64) -> u64 {
    round_figures()
        .find(|&figure| figure >= floor)
        .unwrap_or(u64::MAX)
}

/// Returns the largest round figure at or below `ceiling`, and at least 1, the smallest limit
/// the API accepts.
fn round_down(ceiling: u64) -> u64 {
    round_figures()
        .take_while(|&figure| figure <= ceiling)
        .last()
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_figures_step_one_two_five() {
        assert_eq!(round_up(0), 1);
        assert_eq!(round_up(3), 5);
        assert_eq!(round_up(500_000_000), 500_000_000);
        assert_eq!(round_up(508_624_896), 1_000_000_000);
        assert_eq!(round_up(1_000_000_001), 2_000_000_000);
        assert_eq!(round_up(u64::MAX), u64::MAX);
        assert_eq!(round_down(0), 1);
        assert_eq!(round_down(4), 2);
        assert_eq!(round_down(16_000_000_000), 10_000_000_000);
        assert_eq!(round_down(u64::MAX), 10_000_000_000_000_000_000);
    }

    #[test]
    fn size_limit_is_twice_the_table_rounded_up() {
        let (limit, reason) = max_table_bytes(Some(254_312_448), None);
        assert_eq!(limit, 1_000_000_000);
        assert!(reason.contains("254 MB"), "{reason}");
    }

    #[test]
    fn size_limit_capped_by_free_disk() {
        let (limit, reason) = max_table_bytes(Some(254_312_448), Some(1_200_000_000));
        assert_eq!(limit, 200_000_000);
        assert!(reason.contains("1.2 GB of free disk"), "{reason}");

        let (limit, _) = max_table_bytes(Some(254_312_448), Some(3_000_000_000));
        assert_eq!(limit, 1_000_000_000);
    }

    #[test]
    fn size_limit_without_table_size() {
        let (limit, reason) = max_table_bytes(None, None);
        assert_eq!(limit, FALLBACK_MAX_TABLE_BYTES);
        assert!(reason.contains("unknown"), "{reason}");
        let (limit, _) = max_table_bytes(None, Some(600_000_000));
        assert_eq!(limit, 200_000_000);
    }
}
