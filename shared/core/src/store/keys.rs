//! Every key of the single-table layout, built in one place (see `docs/data-model.md`).
//!
//! Key parts are joined with `#`. Model names cannot contain `#`, but ids, versions, monitor
//! names and segments can, so those parts are escaped (`%` as `%25`, then `#` as `%23`): two
//! different tuples never build the same key, and keys split back into their parts.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// Shards per model, version and hour on the `gsi1` index, so that one busy hour does not
/// concentrate its index writes on one partition. Reading an hour takes this many queries.
pub const HOUR_SHARDS: u32 = 8;

/// Sort key of a model's registration.
pub const CONFIG_SK: &str = "CONFIG";
/// Sort key of a model's monitor rules.
pub const MONITORS_SK: &str = "MONITORS";
/// Sort key of an id's actual.
pub const ACTUAL_SK: &str = "ACTUAL";
/// Partition key on `gsi1` under which every registration is listed.
pub const MODELS_GSI_PK: &str = "MODELS";
/// Name of the global secondary index.
pub const GSI1: &str = "gsi1";

/// Sort-key prefix of version summaries.
pub const VERSION_PREFIX: &str = "VERSION#";
/// Sort-key prefix of monitor states.
pub const STATE_PREFIX: &str = "STATE#";

const HOUR_FORMAT: &str = "%Y-%m-%dT%H";
const DAY_FORMAT: &str = "%Y-%m-%d";

/// Escapes a key part that may contain `#`.
pub fn escape(part: &str) -> String {
    if part.contains(['#', '%']) {
        part.replace('%', "%25").replace('#', "%23")
    } else {
        part.to_string()
    }
}

/// Reverses [`escape`].
pub fn unescape(part: &str) -> String {
    if part.contains('%') {
        part.replace("%23", "#").replace("%25", "%")
    } else {
        part.to_string()
    }
}

/// Formats the UTC hour holding `at` as `YYYY-MM-DDTHH`.
pub fn hour_key(at: DateTime<Utc>) -> String {
    at.format(HOUR_FORMAT).to_string()
}

/// Parses a `YYYY-MM-DDTHH` hour key into the hour's start.
pub fn parse_hour_key(key: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{key}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|naive| Utc.from_utc_datetime(&naive))
}

/// Formats the UTC day holding `at` as `YYYY-MM-DD`.
pub fn day_key(at: DateTime<Utc>) -> String {
    at.format(DAY_FORMAT).to_string()
}

/// Returns the `gsi1` shard of a prediction id: FNV-1a of its bytes, modulo [`HOUR_SHARDS`].
/// The hash is fixed here rather than taken from the standard library, whose hasher may change
/// between Rust releases and would move stored items to other shards.
pub fn shard_of(id: &str) -> u32 {
    (fnv1a(id.as_bytes()) % u64::from(HOUR_SHARDS)) as u32
}

/// Returns the 64-bit FNV-1a hash of `bytes`, which is the same on every platform and release.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

/// `MODEL#{model}`: registration, monitor rules, version summaries and monitor states.
pub fn model_pk(model: &str) -> String {
    format!("MODEL#{model}")
}

/// `VERSION#{version}`: a version summary.
pub fn version_sk(version: &str) -> String {
    format!("{VERSION_PREFIX}{}", escape(version))
}

/// `PRED#{model}#{id}`: every version's prediction of an id, and its actual.
pub fn prediction_pk(model: &str, id: &str) -> String {
    format!("PRED#{model}#{}", escape(id))
}

/// `V#{version}`: one version's prediction.
pub fn prediction_sk(version: &str) -> String {
    format!("V#{}", escape(version))
}

/// `HOUR#{model}#{version}#{hour}#{shard}`: the `gsi1` partition of one shard of one hour.
pub fn hour_gsi_pk(model: &str, version: &str, hour: DateTime<Utc>, shard: u32) -> String {
    format!("HOUR#{model}#{}#{}#{shard}", escape(version), hour_key(hour))
}

/// `DIRTY#{model}`: the hours waiting to be re-aggregated.
pub fn dirty_pk(model: &str) -> String {
    format!("DIRTY#{model}")
}

/// `{version}#{hour}`: one dirty hour.
pub fn dirty_sk(version: &str, hour: DateTime<Utc>) -> String {
    format!("{}#{}", escape(version), hour_key(hour))
}

/// Splits a dirty-hour sort key into the version and the hour's start.
pub fn parse_dirty_sk(sk: &str) -> Option<(String, DateTime<Utc>)> {
    let (version, hour) = sk.rsplit_once('#')?;
    Some((unescape(version), parse_hour_key(hour)?))
}

/// `AGG#{model}#{version}`: the hour and day aggregates of a version.
pub fn aggregate_pk(model: &str, version: &str) -> String {
    format!("AGG#{model}#{}", escape(version))
}

/// `H#{hour}`: an hour aggregate.
pub fn hour_aggregate_sk(hour: DateTime<Utc>) -> String {
    format!("H#{}", hour_key(hour))
}

/// `D#{day}`: a day aggregate.
pub fn day_aggregate_sk(day: DateTime<Utc>) -> String {
    format!("D#{}", day_key(day))
}

/// `HIST#{model}#{version}#{window}#{segment or *}`: the metric snapshots of one series.
/// `segment` is `key:value`, or `None` for the whole traffic.
pub fn history_pk(model: &str, version: &str, window: &str, segment: Option<&str>) -> String {
    let segment = segment.map(escape).unwrap_or_else(|| "*".to_string());
    format!("HIST#{model}#{}#{window}#{segment}", escape(version))
}

/// `STATE#{monitor}#{version}`: a monitor's state for one version.
pub fn monitor_state_sk(monitor: &str, version: &str) -> String {
    format!("{STATE_PREFIX}{}#{}", escape(monitor), escape(version))
}

/// `ALERTS#{model}`: the alert log.
pub fn alerts_pk(model: &str) -> String {
    format!("ALERTS#{model}")
}

/// `{at}#{monitor}#{version}`: one alert log entry, with `at` as RFC 3339.
pub fn alert_sk(at: &str, monitor: &str, version: &str) -> String {
    format!("{at}#{}#{}", escape(monitor), escape(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn hour_key_is_utc_hour() {
        assert_eq!(hour_key(at("2023-06-12T17:59:59Z")), "2023-06-12T17");
    }

    #[test]
    fn hour_key_parses_back() {
        assert_eq!(parse_hour_key("2023-06-12T17"), Some(at("2023-06-12T17:00:00Z")));
        assert_eq!(parse_hour_key("2023-06-12"), None);
    }

    #[test]
    fn escape_round_trips() {
        for part in ["plain", "a#b", "100%", "%23", "#%#"] {
            assert_eq!(unescape(&escape(part)), part);
        }
    }

    #[test]
    fn escaped_part_has_no_separator() {
        assert!(!escape("a#b").contains('#'));
    }

    #[test]
    fn history_keys_differ_when_parts_hold_separator() {
        let a = history_pk("m", "v#1d", "1h", None);
        let b = history_pk("m", "v", "1d", Some("1h"));
        assert_ne!(a, b);
    }

    #[test]
    fn dirty_sk_splits_back() {
        let sk = dirty_sk("v#2", at("2023-06-12T17:00:00Z"));
        assert_eq!(
            parse_dirty_sk(&sk),
            Some(("v#2".to_string(), at("2023-06-12T17:00:00Z")))
        );
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        // Reference values of 64-bit FNV-1a for "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shards_spread_ids() {
        let mut counts = [0u32; HOUR_SHARDS as usize];
        for i in 0..8_000 {
            counts[shard_of(&format!("game-{i}")) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }
}
