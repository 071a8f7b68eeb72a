//! Figures as an engineer reads them: sizes in binary units, durations, rates and percentages.

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc};

/// Formats a byte count with binary units, such as `96.0 MiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a duration in seconds as `850 ms`, `42 s` or `3 min 5 s`.
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

/// Formats milliseconds with precision that suits their size.
pub fn millis(value: f64) -> String {
    if value < 10.0 {
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

/// Formats a count with thousands separators, such as `2,000,000`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

// Times are formatted by hand rather than with chrono's `format`, whose pattern parser would add
// tens of kilobytes to the browser's WASM.

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

/// Seconds from `from` to `to`, never negative.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / 1000.0).max(0.0)
}

/// Words for a snake_case name such as `awaiting_approval`.
pub fn words(snake: &str) -> String {
    let text = snake.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// The JSON name of a unit enum variant, such as `awaiting_approval`.
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
    fn sizes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(100 * 1024 * 1024), "100.0 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(42.0), "42 s");
        assert_eq!(seconds(185.0), "3 min 5 s");
        assert_eq!(millis(2.345), "2.35 ms");
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
