//! Durations, windows and hour arithmetic, as the public API writes them.
//!
//! Durations are written `<n>m`, `<n>h` or `<n>d`. A window is a duration of whole hours or days
//! from `1h` to `90d`. The window `W` evaluated at `T` holds the predictions whose timestamp is in
//! `[floor_hour(T) - W, floor_hour(T))`.

use std::{fmt, str::FromStr};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The accepted forms, quoted in every parse error.
pub const DURATION_FORMS: &str = "<n>m, <n>h or <n>d, for example 30m, 6h or 7d";

/// The shortest window, one hour.
pub const MIN_WINDOW_SECS: i64 = 3_600;
/// The longest window, 90 days.
pub const MAX_WINDOW_SECS: i64 = 90 * 86_400;

/// A parse error for a duration or window string, naming the value and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The string is not `<n>m`, `<n>h` or `<n>d` with a positive whole `n`.
    #[error("invalid duration {value:?}: write it as {DURATION_FORMS}")]
    InvalidDuration {
        /// The rejected string.
        value: String,
    },
    /// A valid duration that is not a window (not whole hours, or outside 1h..90d).
    #[error(
        "invalid window {value:?}: a window is whole hours or days from 1h to 90d, for example 1h, 6h, 1d, 7d or 30d"
    )]
    InvalidWindow {
        /// The rejected string.
        value: String,
    },
}

/// A positive span of time written `<n>m`, `<n>h` or `<n>d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    secs: i64,
}

impl Duration {
    /// Builds a duration from whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        Self { secs }
    }

    /// Returns the length in seconds.
    pub fn secs(&self) -> i64 {
        self.secs
    }

    /// Returns the length as a chrono delta.
    pub fn delta(&self) -> TimeDelta {
        TimeDelta::seconds(self.secs)
    }
}

impl FromStr for Duration {
    type Err = TimeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || TimeError::InvalidDuration {
            value: value.to_string(),
        };
        if value.len() < 2 || !value.is_ascii() {
            return Err(invalid());
        }
        let (digits, unit) = value.split_at(value.len() - 1);
        let unit_secs = match unit {
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(invalid()),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let count: i64 = digits.parse().map_err(|_| invalid())?;
        // Ten years is far past any window, cooldown or tick interval; it also rules out overflow.
        if count == 0 || count > 3_650 * 86_400 / unit_secs {
            return Err(invalid());
        }
        Ok(Self {
            secs: count * unit_secs,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secs % 86_400 == 0 {
            write!(f, "{}d", self.secs / 86_400)
        } else if self.secs % 3_600 == 0 {
            write!(f, "{}h", self.secs / 3_600)
        } else {
            write!(f, "{}m", self.secs / 60)
        }
    }
}

/// A metrics window: whole hours or days from `1h` to `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    duration: Duration,
}

impl Window {
    /// Returns the window's length.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Returns the window's length in seconds.
    pub fn secs(&self) -> i64 {
        self.duration.secs
    }

    /// Returns `[floor_hour(at) - window, floor_hour(at))`, the span the window holds at `at`.
    pub fn bounds(&self, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = floor_hour(at);
        (end - self.duration.delta(), end)
    }

    /// Returns true when the window is a whole number of days.
    pub fn is_days(&self) -> bool {
        self.duration.secs % 86_400 == 0
    }
}

impl FromStr for Window {
    type Err = TimeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let duration: Duration = value.parse()?;
        let secs = duration.secs;
        if secs % 3_600 != 0 || !(MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&secs) {
            return Err(TimeError::InvalidWindow {
                value: value.to_string(),
            });
        }
        Ok(Self { duration })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.duration.fmt(f)
    }
}

macro_rules! string_serde {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(Duration);
string_serde!(Window);

/// Parses a comma-separated window list such as `1h,1d,7d,30d`.
pub fn parse_windows(list: &str) -> Result<Vec<Window>, TimeError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// Returns the start of the UTC hour that holds `at`.
pub fn floor_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

/// Returns the start of the UTC day that holds `at`.
pub fn floor_day(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::days(1)).unwrap_or(at)
}

/// Formats a timestamp as RFC 3339 with whole seconds and a `Z` offset, the API's form.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn duration_parses_each_unit() {
        assert_eq!("30m".parse::<Duration>().unwrap().secs(), 1_800);
        assert_eq!("6h".parse::<Duration>().unwrap().secs(), 21_600);
        assert_eq!("7d".parse::<Duration>().unwrap().secs(), 604_800);
    }

    #[test]
    fn duration_rejects_bad_forms() {
        for bad in [
            "",
            "h",
            "0h",
            "1.5h",
            "-1h",
            "1w",
            "1 h",
            "h1",
            "99999999999999999999d",
            "١h",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn duration_displays_in_largest_unit() {
        assert_eq!("24h".parse::<Duration>().unwrap().to_string(), "1d");
        assert_eq!("90m".parse::<Duration>().unwrap().to_string(), "90m");
    }

    #[test]
    fn window_accepts_hours_and_days_in_range() {
        assert!("1h".parse::<Window>().is_ok());
        assert!("90d".parse::<Window>().is_ok());
        assert!("36h".parse::<Window>().is_ok());
    }

    #[test]
    fn window_rejects_minutes_and_out_of_range() {
        let error = "30m".parse::<Window>().unwrap_err();
        assert!(error.to_string().contains("1h to 90d"));
        assert!("91d".parse::<Window>().is_err());
        assert!("90m".parse::<Window>().is_err());
    }

    #[test]
    fn window_bounds_end_at_floor_hour() {
        let window: Window = "1d".parse().unwrap();
        let (start, end) = window.bounds(at("2023-06-13T00:30:00Z"));
        assert_eq!(end, at("2023-06-13T00:00:00Z"));
        assert_eq!(start, at("2023-06-12T00:00:00Z"));
    }

    #[test]
    fn window_list_parses_default() {
        let windows = parse_windows("1h,1d,7d,30d").unwrap();
        assert_eq!(windows.len(), 4);
        assert_eq!(windows[3].to_string(), "30d");
    }

    #[test]
    fn window_serde_round_trips_as_string() {
        let window: Window = "7d".parse().unwrap();
        let json = serde_json::to_string(&window).unwrap();
        assert_eq!(json, "\"7d\"");
        assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), window);
    }
}
