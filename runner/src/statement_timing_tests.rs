use super::*;

const WINDOW: Duration = Duration::from_secs(30);

fn reading(entries: &[(u32, bool, i64, f64)]) -> Reading {
    Reading {
        stats_reset: DateTime::from_timestamp(1_000, 0),
        entries: entries
            .iter()
            .map(|&(user, top_level, calls, total_exec_time_ms)| {
                let counters = EntryCounters {
                    calls,
                    total_exec_time_ms,
                };
                ((user, top_level), counters)
            })
            .collect(),
    }
}

fn unknown_reason(mean: MeanTime) -> String {
    match mean {
        MeanTime::Unknown { reason } => reason,
        MeanTime::Measured { .. } => panic!("expected an unknown mean, got {mean:?}"),
    }
}

#[test]
fn mean_covers_calls_between_readings() {
    let first = reading(&[(10, true, 100, 25_000.0), (11, true, 50, 12_500.0)]);
    let second = reading(&[(10, true, 1_100, 25_500.0), (11, true, 1_050, 25_000.0)]);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(
        mean,
        MeanTime::Measured {
            mean_ms: 13_000.0 / 2_000.0,
            calls: 2_000
        }
    );
}

#[test]
fn entry_new_in_window_counts_whole() {
    let first = reading(&[]);
    let second = reading(&[(10, true, 4, 2.0)]);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(
        mean,
        MeanTime::Measured {
            mean_ms: 0.5,
            calls: 4
        }
    );
}

#[test]
fn zero_calls_leave_mean_unknown() {
    let first = reading(&[(10, true, 100, 25_000.0)]);

    let reason = unknown_reason(mean_between(&first, &first.clone(), WINDOW));

    assert_eq!(reason, "the statement did not run during the 30 s window");
}

#[test]
fn entry_reset_uses_second_reading() {
    let first = reading(&[(10, true, 5_000, 100_000.0)]);
    let second = reading(&[(10, true, 20, 1.0)]);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(
        mean,
        MeanTime::Measured {
            mean_ms: 0.05,
            calls: 20
        }
    );
}

#[test]
fn full_reset_uses_second_reading() {
    // More calls after the reset than before it, so only stats_reset shows the reset.
    let first = reading(&[(10, true, 10, 200.0)]);
    let mut second = reading(&[(10, true, 40, 8.0)]);
    second.stats_reset = DateTime::from_timestamp(2_000, 0);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(
        mean,
        MeanTime::Measured {
            mean_ms: 0.2,
            calls: 40
        }
    );
}

#[test]
fn reset_without_calls_is_unknown() {
    let first = reading(&[(10, true, 5_000, 100_000.0)]);
    let emptied = reading(&[]);
    let restarted = reading(&[(10, true, 0, 0.0)]);

    for second in [emptied, restarted] {
        let reason = unknown_reason(mean_between(&first, &second, WINDOW));
        assert!(reason.contains("was reset"), "{reason}");
    }
}

#[test]
fn top_level_calls_win_over_nested() {
    let first = reading(&[(10, true, 0, 0.0), (10, false, 0, 0.0)]);
    let second = reading(&[(10, true, 10, 10.0), (10, false, 1_000, 90_000.0)]);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(mean.mean_ms(), Some(1.0));
}

#[test]
fn nested_calls_count_without_top_level() {
    let first = reading(&[(10, false, 100, 1_000.0)]);
    let second = reading(&[(10, false, 300, 1_400.0)]);

    let mean = mean_between(&first, &second, WINDOW);

    assert_eq!(mean.mean_ms(), Some(2.0));
}

#[test]
fn gain_needs_mean_below_ninety_percent() {
    assert!(brought_gain(258.6, 0.4));
    assert!(brought_gain(100.0, 89.9));
    assert!(!brought_gain(100.0, 90.0));
    assert!(!brought_gain(100.0, 140.0));
    assert!(brought_gain(0.0, 5.0));
    assert!(brought_gain(f64::NAN, 5.0));
}

#[test]
fn description_groups_calls() {
    let mean = MeanTime::Measured {
        mean_ms: 0.42,
        calls: 1_234,
    };

    assert_eq!(
        mean.describe(258.6),
        "mean 258.6 ms -> 0.420 ms over 1,234 calls"
    );
    assert_eq!(millis(0.0123), "0.012 ms");
    assert_eq!(millis(2.5), "2.50 ms");
}
