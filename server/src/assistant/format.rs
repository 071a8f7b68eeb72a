//! Figures as the assessment's sentences show them.

const BYTE_UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];

/// Formats a byte count in SI units (1 MB is 10^6 bytes) with at most three significant
/// digits, so that the proposed limits, which are round in bytes, read as round figures.
pub fn bytes(count: u64) -> String {
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < BYTE_UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{count} bytes");
    }
    format!("{} {}", significant(value), BYTE_UNITS[unit])
}

/// Formats a duration in seconds, minutes or hours.
pub fn duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{} s", rate(seconds))
    } else if seconds < 90.0 {
        format!("{} s", seconds.round())
    } else if seconds < 90.0 * 60.0 {
        format!("{} min", (seconds / 60.0).round())
    } else {
        format!("{} h", significant(seconds / 3600.0))
    }
}

/// Formats a row count: exact with thousands separators below a million, else in millions.
pub fn count(rows: u64) -> String {
    if rows >= 1_000_000 {
        return format!("{:.1} million", rows as f64 / 1e6);
    }
    contracts::units::thousands(rows)
}

/// Formats a rate with one decimal below 10 and none above.
pub fn rate(per_second: f64) -> String {
    if per_second < 10.0 {
        trim_zeros(format!("{per_second:.1}"))
    } else {
        format!("{per_second:.0}")
    }
}

/// Formats a percentage with one decimal below 10 and none above.
pub fn percent(value: f64) -> String {
    if value > 0.0 && value < 0.1 {
        return "under 0.1 %".to_string();
    }
    format!("{} %", rate(value))
}

/// Formats a memory setting as PostgreSQL's `SHOW` does, in binary units written `kB`, `MB`
/// and `GB`, such as `64MB`.
pub fn setting_bytes(count: u64) -> String {
    const KIB: u64 = 1024;
    for (unit, size) in [("GB", KIB * KIB * KIB), ("MB", KIB * KIB), ("kB", KIB)] {
        if count >= size && count.is_multiple_of(size) {
            return format!("{}{unit}", count / size);
        }
    }
    format!("{count}B")
}

/// Rounds to three significant digits and drops trailing zeros: `1.50` becomes `1.5`.
fn significant(value: f64) -> String {
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    trim_zeros(text)
}

fn trim_zeros(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_si_units() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(500_000_000), "500 MB");
        assert_eq!(bytes(254_312_448), "254 MB");
        assert_eq!(bytes(1_500_000_000), "1.5 GB");
        assert_eq!(bytes(12_345_678_901), "12.3 GB");
        assert_eq!(bytes(2_000_000_000_000), "2 TB");
    }

    #[test]
    fn settings_use_postgres_units() {
        assert_eq!(setting_bytes(64 * 1024 * 1024), "64MB");
        assert_eq!(setting_bytes(1024 * 1024 * 1024), "1GB");
        assert_eq!(setting_bytes(1536 * 1024), "1536kB");
        assert_eq!(setting_bytes(1000), "1000B");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.4), "0.4 s");
        assert_eq!(duration(4.0), "4 s");
        assert_eq!(duration(12.4), "12 s");
        assert_eq!(duration(89.0), "89 s");
        assert_eq!(duration(840.0), "14 min");
        assert_eq!(duration(3.0 * 3600.0), "3 h");
        assert_eq!(duration(2.25 * 3600.0), "2.25 h");
    }

    #[test]
    fn counts_group_digits() {
        assert_eq!(count(7), "7");
        assert_eq!(count(20_000), "20,000");
        assert_eq!(count(999_999), "999,999");
        assert_eq!(count(2_000_000), "2.0 million");
    }

    #[test]
    fn rates_and_percents() {
        assert_eq!(rate(0.26), "0.3");
        assert_eq!(rate(3.0), "3");
        assert_eq!(rate(35.4), "35");
        assert_eq!(percent(1.47), "1.5 %");
        assert_eq!(percent(0.01), "under 0.1 %");
        assert_eq!(percent(0.0), "0 %");
    }
}
