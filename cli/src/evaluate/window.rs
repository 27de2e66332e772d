//! Tumbling windows for `mpt evaluate`: window lengths and row timestamps.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

const SECONDS_PER_HOUR: i64 = 3_600;
const SECONDS_PER_DAY: i64 = 86_400;
const MAX_WINDOW_SECS: i64 = 90 * SECONDS_PER_DAY;

/// A tumbling window length: whole hours or days from 1h to 90d.
///
/// Windows are aligned to the Unix epoch, so day windows start at midnight UTC and hour windows
/// on the hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    length_secs: i64,
}

impl Window {
    /// Returns the start, in Unix seconds, of the window that contains `timestamp_secs`.
    pub fn start_of(&self, timestamp_secs: i64) -> i64 {
        timestamp_secs.div_euclid(self.length_secs) * self.length_secs
    }

    /// Returns the window length in seconds.
    pub fn length_secs(&self) -> i64 {
        self.length_secs
    }
}

/// Parses a window length written `<n>m`, `<n>h` or `<n>d`, for clap.
pub fn parse_window(text: &str) -> Result<Window, String> {
    let invalid = || {
        "a window is whole hours or days from 1h to 90d, written like 1h, 6h, 1d, 7d or 90d \
         (minutes are accepted when they make whole hours, like 120m)"
            .to_string()
    };

    let unit_at = text.len().checked_sub(1).ok_or_else(invalid)?;
    let (digits, unit) = text.split_at(unit_at);
    let unit_secs = match unit {
        "m" => 60,
        "h" => SECONDS_PER_HOUR,
        "d" => SECONDS_PER_DAY,
        _ => return Err(invalid()),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let count: i64 = digits.parse().map_err(|_| invalid())?;
    let length_secs = count.checked_mul(unit_secs).ok_or_else(invalid)?;
    if !(SECONDS_PER_HOUR..=MAX_WINDOW_SECS).contains(&length_secs) || length_secs % SECONDS_PER_HOUR != 0 {
        return Err(invalid());
    }
    Ok(Window { length_secs })
}

/// Parses an RFC 3339 timestamp, or a `YYYY-MM-DD` date as midnight UTC, into Unix seconds.
///
/// Returns `None` when the text is neither.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(timestamp) = DateTime::parse_from_rfc3339(text) {
        return Some(timestamp.timestamp());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// Formats Unix seconds as an RFC 3339 timestamp in UTC, like `2023-06-12T00:00:00Z`.
pub fn format_timestamp(timestamp_secs: i64) -> String {
    match DateTime::<Utc>::from_timestamp(timestamp_secs, 0) {
        Some(timestamp) => timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        // Window starts come from parsed timestamps, which chrono can always represent.
        None => timestamp_secs.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_accepts_days() {
        assert_eq!(
            parse_window("7d").map(|window| window.length_secs()),
            Ok(7 * SECONDS_PER_DAY)
        );
    }

    #[test]
    fn window_accepts_whole_hours_in_minutes() {
        assert_eq!(
            parse_window("120m").map(|window| window.length_secs()),
            Ok(2 * SECONDS_PER_HOUR)
        );
    }

    #[test]
    fn window_rejects_partial_hours() {
        assert!(parse_window("90m").is_err());
    }

    #[test]
    fn window_rejects_more_than_90_days() {
        assert!(parse_window("91d").is_err());
    }

    #[test]
    fn window_rejects_zero() {
        assert!(parse_window("0h").is_err());
    }

    #[test]
    fn window_rejects_missing_unit() {
        assert!(parse_window("7").is_err());
    }

    #[test]
    fn window_rejects_signs() {
        assert!(parse_window("+7d").is_err());
    }

    #[test]
    fn window_error_lists_accepted_forms() {
        let message = parse_window("2w").expect_err("weeks are not accepted");
        assert!(message.contains("1h, 6h, 1d, 7d or 90d"), "{message}");
    }

    #[test]
    fn window_start_before_epoch_rounds_down() {
        let window = parse_window("1d").expect("valid window");
        assert_eq!(window.start_of(-1), -SECONDS_PER_DAY);
    }

    #[test]
    fn timestamp_plain_date_is_midnight_utc() {
        assert_eq!(parse_timestamp("2023-06-12"), Some(1_686_528_000));
    }

    #[test]
    fn timestamp_rfc3339_offset_applies() {
        assert_eq!(parse_timestamp("2023-06-12T02:00:00+02:00"), Some(1_686_528_000));
    }

    #[test]
    fn timestamp_rejects_slashes() {
        assert_eq!(parse_timestamp("2023/06/12"), None);
    }

    #[test]
    fn timestamp_formats_as_utc() {
        assert_eq!(format_timestamp(1_686_528_000), "2023-06-12T00:00:00Z");
    }
}
