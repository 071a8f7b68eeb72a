//! Formatting of figures for display: sizes in decimal units, durations, counts, rates,
//! percentages and UTC times.

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc};

/// Sizes in decimal units (1 MB is 10^6 bytes), such as `96.5 MB`: the unit of the
/// assistant's sentences and of the limits form, so that one size reads the same on every page.
pub use contracts::units::bytes;

/// Formats a memory setting as PostgreSQL writes it, such as `64MB`, where units are powers of 1024.
pub fn setting_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    match bytes {
        0 => "0".to_string(),
        _ if bytes.is_multiple_of(KB * KB * KB) => format!("{}GB", bytes / (KB * KB * KB)),
        _ if bytes.is_multiple_of(KB * KB) => format!("{}MB", bytes / (KB * KB)),
        _ if bytes.is_multiple_of(KB) => format!("{}kB", bytes / KB),
        _ => format!("{bytes}B"),
    }
}

/// Formats a duration in seconds as `850 ms`, `42 s`, `3 min 5 s` or, from 90 minutes, `1.5 h`.
pub fn seconds(value: f64) -> String {
    if value < 1.0 {
        format!("{:.0} ms", value * 1000.0)
    } else if value < 90.0 {
        format!("{value:.0} s")
    } else if value < 5400.0 {
        let minutes = (value / 60.0).floor();
        format!("{minutes:.0} min {:.0} s", value - minutes * 60.0)
    } else {
        format!("{:.1} h", value / 3600.0)
    }
}

/// Formats a duration in milliseconds, with two decimals below 10 ms, one below 1 s, and
/// [`seconds`] from 1 s.
pub fn millis(value: f64) -> String {
    // An index lookup takes hundredths of a millisecond, which two decimals would show as 0.00.
    if value < 1.0 {
        format!("{value:.3} ms")
    } else if value < 10.0 {
        format!("{value:.2} ms")
    } else if value < 1000.0 {
        format!("{value:.1} ms")
    } else {
        seconds(value / 1000.0)
    }
}

pub fn percent(value: f64) -> String {
    format!("{value:.0} %")
}

/// Formats a measurement before and after an action, such as `95 % → 1 %`; `None` unless both
/// are known.
pub fn before_after(
    before: Option<f64>,
    after: Option<f64>,
    unit: fn(f64) -> String,
) -> Option<String> {
    Some(format!("{} → {}", unit(before?), unit(after?)))
}

/// Counts with thousands separators, such as `2,000,000`.
pub use contracts::units::thousands as count;

pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

// Times are formatted by hand rather than with chrono's `format`, because its pattern parser
// would enlarge the browser's WASM (by an estimated tens of kilobytes, not measured).

/// Formats a time of day in UTC, such as `14:03:27 UTC`.
pub fn clock(at: DateTime<Utc>) -> String {
    format!("{:02}:{:02}:{:02} UTC", at.hour(), at.minute(), at.second())
}

/// Formats a date and time in UTC, such as `2026-12-04 14:03 UTC`.
pub fn date_time(at: DateTime<Utc>) -> String {
    format!(
        "{}-{:02}-{:02} {} UTC",
        at.year(),
        at.month(),
        at.day(),
        hours_minutes(at.time())
    )
}

/// Formats a time of day as `HH:MM`.
pub fn hours_minutes(time: NaiveTime) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// Returns the seconds from `from` to `to`, or 0 when `to` is earlier.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / 1000.0).max(0.0)
}

/// Turns a snake_case name such as `awaiting_approval` into words with a capital first letter
/// (`Awaiting approval`).
pub fn words(snake: &str) -> String {
    let text = snake.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Returns the JSON name of a unit enum variant, such as `awaiting_approval`, or an empty string
/// when the value does not serialize to a JSON string.
pub fn json_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(500_000_000), "500.0 MB");
        assert_eq!(bytes(168_960_000), "169.0 MB");
        assert_eq!(bytes(3_000_000_000), "3.0 GB");
    }

    #[test]
    fn before_after_needs_both() {
        assert_eq!(
            before_after(Some(95.0), Some(1.0), percent).as_deref(),
            Some("95 % → 1 %")
        );
        assert_eq!(before_after(None, Some(1.0), percent), None);
        assert_eq!(before_after(Some(95.0), None, percent), None);
    }

    #[test]
    fn settings_use_postgres_units() {
        assert_eq!(setting_size(64 * 1024 * 1024), "64MB");
        assert_eq!(setting_size(2 * 1024 * 1024 * 1024), "2GB");
        assert_eq!(setting_size(1536 * 1024), "1536kB");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(42.0), "42 s");
        assert_eq!(seconds(185.0), "3 min 5 s");
        assert_eq!(millis(2.345), "2.35 ms");
        assert_eq!(millis(0.0121), "0.012 ms");
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(count(2_000_000), "2,000,000");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
    }

    #[test]
    fn times_are_utc_with_leading_zeros() {
        let at = DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(clock(at), "05:06:07 UTC");
        assert_eq!(date_time(at), "2026-03-04 05:06 UTC");
    }

    #[test]
    fn names_become_words() {
        assert_eq!(words("awaiting_approval"), "Awaiting approval");
    }
}
