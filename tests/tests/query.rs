//! The read API against the emulator: data goes in through the write handlers, hours are
//! aggregated by the metrics computation, and every read endpoint is checked on what comes back.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    compute::{run_tick, ComputeDeps},
    http::Request,
    ingest,
    pagination::TokenKey,
    query::{self, PAIRED_CAP},
    store::deadline_after,
    Store,
};
use mpt_tests::{config_for, context_at, fresh_store};
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    "2023-06-13T12:00:00Z".parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A store with a fresh table. Each request gets its own context at `now()`, so that its
/// deadline counts from when it is sent, however long the emulator took to store the data.
struct Setup {
    store: Store,
}

impl Setup {
    fn read(&self) -> query::Context {
        query::Context::new(
            self.store.clone(),
            config_for(&self.store),
            TokenKey::from_secret(b"query tests"),
            now(),
            deadline_after(Duration::from_secs(20)),
        )
    }

    fn write(&self) -> ingest::Context {
        context_at(&self.store, now())
    }
}

async fn setup() -> Setup {
    Setup {
        store: fresh_store().await,
    }
}

async fn get(setup: &Setup, path: &str, query: &str) -> (u16, Value) {
    let response = query::route(
        &setup.read(),
        &Request {
            method: "GET",
            path,
            query: Some(query),
            body: &[],
        },
    )
    .await;
    let body: Value = serde_json::from_str(&response.body).unwrap();
    (response.status, body)
}

async fn write(setup: &Setup, method: &str, path: &str, body: Value) -> Value {
    let bytes = body.to_string();
    let response = ingest::route(
        &setup.write(),
        &Request {
            method,
            path,
            query: None,
            body: bytes.as_bytes(),
        },
    )
    .await;
    assert!(
        response.status < 300,
        "{method} {path} answered {}: {}",
        response.status,
        response.body
    );
    serde_json::from_str(&response.body).unwrap()
}

/// Sends predictions in batches of at most 1,000, the API's limit.
async fn post_predictions(setup: &Setup, model: &str, predictions: Vec<Value>) {
    for batch in predictions.chunks(1_000) {
        write(
            setup,
            "POST",
            "/v1/predictions",
            json!({ "model": model, "predictions": batch }),
        )
        .await;
    }
}

/// Aggregates every dirty hour and stores the snapshots of the default windows ending at `now`.
async fn tick(store: &Store, now: DateTime<Utc>) {
    let deps = ComputeDeps::new(store.clone(), None).with_settle(TimeDelta::zero());
    let summary = run_tick(&deps, &config_for(store), now).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
}

/// A binary prediction of game `id` by `version` at `timestamp`, labelled when `actual` is set.
fn game(id: &str, version: &str, timestamp: &str, score: f64, actual: Option<u8>) -> Value {
    let mut record = json!({ "id": id, "version": version, "timestamp": timestamp, "prediction": score });
    if let Some(actual) = actual {
        record["actual"] = json!(actual);
    }
    record
}

/// Twenty games on 2023-06-12 scored by `version`, the first `labelled` of them with outcomes.
/// Every seventh game is called the wrong way, so accuracy and ROC-AUC are below 1.
fn day_of_games(version: &str, offset: f64, labelled: usize) -> Vec<Value> {
    (0..20)
        .map(|i| {
            let actual = (i % 3 != 0) as u8;
            let called = if i % 7 == 0 { 1 - actual } else { actual };
            let score = (0.2 + 0.6 * f64::from(called) + offset - 0.01 * f64::from(i as u32 % 5)).clamp(0.0, 1.0);
            let timestamp = format!("2023-06-12T{:02}:30:00Z", 8 + i % 10);
            game(
                &format!("g{i}"),
                version,
                &timestamp,
                score,
                (i < labelled).then_some(actual),
            )
        })
        .collect()
}

fn metric(body: &Value, name: &str) -> f64 {
    body["metrics"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a number in {body}"))
}

#[tokio::test]
async fn models_list_versions_with_counts_and_times() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 0)).await;
    post_predictions(
        &setup,
        "nba",
        vec![game("g99", "raptor", "2023-06-12T20:00:00Z", 0.5, None)],
    )
    .await;

    let (status, body) = get(&setup, "/v1/models", "").await;
    assert_eq!(status, 200, "{body}");
    let model = &body["models"][0];
    assert_eq!(model["model"], "nba");
    assert_eq!(model["task"], "binary");
    assert_eq!(model["predictions"], 21);
    assert_eq!(model["versions"][0]["version"], "raptor");
    assert_eq!(model["versions"][1]["predictions"], 20);
    assert_eq!(model["first_prediction_at"], "2023-06-12T08:30:00Z");
    assert_eq!(model["last_prediction_at"], "2023-06-12T20:00:00Z");
}

#[tokio::test]
async fn models_reject_unknown_parameter() {
    let setup = setup().await;
    let (status, body) = get(&setup, "/v1/models", "limit=3").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "limit");
}

#[tokio::test]
async fn metrics_unknown_model_is_404() {
    let setup = setup().await;
    let (status, body) = get(&setup, "/v1/models/nope/metrics", "window=1d").await;
    assert_eq!(status, 404);
    assert_eq!(body["field"], "model");
    assert!(body["detail"].as_str().unwrap().contains("nope"), "{body}");
}

#[tokio::test]
async fn metrics_bad_window_lists_accepted_forms() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    for bad in ["2w", "30m", "91d", "0h"] {
        let (status, body) = get(&setup, "/v1/models/nba/metrics", &format!("window={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["field"], "window");
        assert!(body["detail"].as_str().unwrap().contains("1h to 90d"), "{body}");
    }
}

#[tokio::test]
async fn metrics_bad_at_is_400() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/metrics", "at=yesterday").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "at");
}

#[tokio::test]
async fn metrics_unknown_version_names_known_ones() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/metrics", "version=raptor").await;
    assert_eq!(status, 404);
    assert_eq!(body["field"], "version");
    assert!(body["detail"].as_str().unwrap().contains("elo"), "{body}");
}

#[tokio::test]
async fn metrics_stored_and_computed_agree() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;

    // The tick stored the 1d window ending at 2023-06-13T00:00; a 2d window is computed.
    let (status, stored) = get(&setup, "/v1/models/nba/metrics", "window=1d&at=2023-06-13T00:30:00Z").await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["source"], "stored");
    let (status, computed) = get(&setup, "/v1/models/nba/metrics", "window=2d&at=2023-06-13T00:30:00Z").await;
    assert_eq!(status, 200, "{computed}");
    assert_eq!(computed["source"], "computed");

    assert_eq!(stored["predictions"], 20);
    assert_eq!(computed["predictions"], 20);
    assert_eq!(metric(&stored, "accuracy"), metric(&computed, "accuracy"));
    assert_eq!(metric(&stored, "log_loss"), metric(&computed, "log_loss"));
}

#[tokio::test]
async fn metrics_match_direct_computation() {
    let setup = setup().await;
    let games = day_of_games("elo", 0.0, 20);
    post_predictions(&setup, "nba", games.clone()).await;
    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;

    let (status, body) = get(&setup, "/v1/models/nba/metrics", "window=1d&at=2023-06-13T00:00:00Z").await;
    assert_eq!(status, 200, "{body}");
    let scored: Vec<(f64, bool)> = games
        .iter()
        .map(|g| (g["prediction"].as_f64().unwrap(), g["actual"] == 1))
        .collect();
    let correct = scored
        .iter()
        .filter(|(score, actual)| (*score >= 0.5) == *actual)
        .count();
    let log_loss = scored
        .iter()
        .map(|(score, actual)| -(if *actual { *score } else { 1.0 - score }).ln())
        .sum::<f64>()
        / scored.len() as f64;
    assert_eq!(body["labelled"], 20);
    assert!((metric(&body, "accuracy") - correct as f64 / 20.0).abs() < 1e-12);
    assert!((metric(&body, "log_loss") - log_loss).abs() < 1e-9);
    assert_eq!(body["version"], "elo");
    assert_eq!(body["start"], "2023-06-12T00:00:00Z");
    assert_eq!(body["end"], "2023-06-13T00:00:00Z");
}

#[tokio::test]
async fn metrics_default_to_latest_version() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    post_predictions(
        &setup,
        "nba",
        vec![game("g0", "raptor", "2023-06-12T23:00:00Z", 0.7, None)],
    )
    .await;
    let (status, body) = get(&setup, "/v1/models/nba/metrics", "window=1d&at=2023-06-13T00:00:00Z").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], "raptor");
}

#[tokio::test]
async fn metrics_of_segment_count_its_predictions() {
    let setup = setup().await;
    write(
        &setup,
        "PUT",
        "/v1/models/nba",
        json!({ "task": "binary", "segments": ["stage"] }),
    )
    .await;
    let games: Vec<Value> = day_of_games("elo", 0.0, 20)
        .into_iter()
        .enumerate()
        .map(|(i, mut g)| {
            g["segment"] = json!({ "stage": if i < 5 { "finals" } else { "regular" } });
            g
        })
        .collect();
    post_predictions(&setup, "nba", games).await;
    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;

    let query = "window=1d&segment=stage:finals&at=2023-06-13T00:00:00Z";
    let (status, body) = get(&setup, "/v1/models/nba/metrics", query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["segment"], "stage:finals");
    assert_eq!(body["predictions"], 5);

    let computed_query = "window=3d&segment=stage:regular&at=2023-06-13T00:00:00Z";
    let (status, body) = get(&setup, "/v1/models/nba/metrics", computed_query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "computed");
    assert_eq!(body["predictions"], 15);
}

#[tokio::test]
async fn metrics_of_unknown_segment_key_is_400() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/metrics", "window=2d&segment=venue:home").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "segment");
}

/// Stores one game per hour from 2023-06-12T00 and ticks after each hour, so the 1h window has
/// one stored snapshot per hour end.
async fn hourly_history(setup: &Setup, hours: u32) {
    let games: Vec<Value> = (0..hours)
        .map(|h| {
            game(
                &format!("h{h}"),
                "elo",
                &format!("2023-06-12T{h:02}:10:00Z"),
                0.8,
                Some(1),
            )
        })
        .collect();
    post_predictions(setup, "nba", games).await;
    for h in 1..=hours {
        tick(
            &setup.store,
            at("2023-06-12T00:05:00Z") + TimeDelta::hours(i64::from(h)),
        )
        .await;
    }
}

#[tokio::test]
async fn history_pages_follow_next_tokens() {
    let setup = setup().await;
    hourly_history(&setup, 5).await;

    let base = "metric=predictions&window=1h&from=2023-06-12T01:00:00Z&to=2023-06-12T05:00:00Z&limit=2";
    let mut ends = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &next {
            Some(token) => format!("{base}&next={token}"),
            None => base.to_string(),
        };
        let (status, body) = get(&setup, "/v1/models/nba/history", &query).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for point in body["points"].as_array().unwrap() {
            assert_eq!(point["value"], 1.0, "{point}");
            ends.push(point["end"].as_str().unwrap().to_string());
        }
        match body["next"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (1..=5).map(|h| format!("2023-06-12T{h:02}:00:00Z")).collect();
    assert_eq!(ends, expected);
}

#[tokio::test]
async fn history_rejects_tampered_token() {
    let setup = setup().await;
    hourly_history(&setup, 3).await;
    let base = "metric=predictions&window=1h&limit=1&to=2023-06-12T03:00:00Z";
    let (_, body) = get(&setup, "/v1/models/nba/history", base).await;
    let token = body["next"].as_str().unwrap().to_string();

    // Change one character in the middle of the token, keeping it valid base64url.
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let (status, body) = get(&setup, "/v1/models/nba/history", &format!("{base}&next={tampered}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "next");

    let (status, body) = get(&setup, "/v1/models/nba/history", &format!("{base}&next=not-a-token")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "next");
}

#[tokio::test]
async fn history_rejects_token_of_other_query() {
    let setup = setup().await;
    hourly_history(&setup, 3).await;
    let (_, body) = get(
        &setup,
        "/v1/models/nba/history",
        "metric=predictions&window=1h&limit=1&to=2023-06-12T03:00:00Z",
    )
    .await;
    let token = body["next"].as_str().unwrap();
    let other = format!("metric=labelled&window=1h&limit=1&to=2023-06-12T03:00:00Z&next={token}");
    let (status, body) = get(&setup, "/v1/models/nba/history", &other).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("other parameters"), "{body}");
}

#[tokio::test]
async fn history_requires_metric() {
    let setup = setup().await;
    hourly_history(&setup, 1).await;
    let (status, body) = get(&setup, "/v1/models/nba/history", "window=1h").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "metric");
}

#[tokio::test]
async fn history_undefined_value_carries_reason() {
    let setup = setup().await;
    hourly_history(&setup, 2).await;
    // Every game has actual 1, so ROC-AUC is undefined in every window.
    let (status, body) = get(
        &setup,
        "/v1/models/nba/history",
        "metric=roc_auc&window=1h&to=2023-06-12T02:00:00Z",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let point = &body["points"][0];
    assert_eq!(point["value"], Value::Null);
    assert!(point["reason"].is_string(), "{point}");
}

/// Reads the fixture case of 400 synthetic binary pairs scored with threshold 0.3. The full NBA
/// season case is checked without the emulator, in the core crate, because the emulator takes
/// about half a second per index query at that size.
fn paired_fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/core/tests/fixtures/compare/paired_binary.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    cases
        .into_iter()
        .find(|case| case["name"] == "synthetic_threshold_0_3")
        .unwrap()
}

/// Registers the model with the fixture's threshold and stores the fixture's scores as
/// predictions of both versions in one hour of 2023-06-12, with outcomes sent inline.
async fn store_fixture_pairs(setup: &Setup, fixture: &Value) {
    write(
        setup,
        "PUT",
        "/v1/models/nba",
        json!({ "task": "binary", "threshold": fixture["threshold"] }),
    )
    .await;
    let mut predictions = Vec::new();
    for (version, column) in [("elo", "baseline"), ("raptor", "candidate")] {
        let scores = fixture[column].as_array().unwrap();
        for (i, score) in scores.iter().enumerate() {
            let actual = u8::from(fixture["actuals"][i].as_bool().unwrap());
            let timestamp = format!("2023-06-12T18:{:02}:00Z", i % 60);
            predictions.push(game(
                &format!("game-{i}"),
                version,
                &timestamp,
                score.as_f64().unwrap(),
                Some(actual),
            ));
        }
    }
    post_predictions(setup, "nba", predictions).await;
}

fn assert_matches_fixture(body: &Value, fixture: &Value) {
    assert_eq!(body["paired"], true, "{body}");
    let games = fixture["actuals"].as_array().unwrap().len() as u64;
    assert_eq!(body["shared_ids"], games);
    assert_eq!(body["shared_labelled"], games);
    for (name, expected) in fixture["expected"].as_object().unwrap() {
        let actual = &body["metrics"][name];
        assert_eq!(actual["test"], expected["test"], "{name}");
        for field in ["baseline", "candidate", "difference", "p_value"] {
            let (got, want) = (actual[field].as_f64().unwrap(), expected[field].as_f64().unwrap());
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "{name} {field}: {got} vs {want}"
            );
        }
        for bound in 0..2 {
            let (got, want) = (
                actual["ci"][bound].as_f64().unwrap(),
                expected["ci"][bound].as_f64().unwrap(),
            );
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "{name} ci[{bound}]: {got} vs {want}"
            );
        }
    }
}

#[tokio::test]
async fn compare_paired_matches_fixture() {
    let setup = setup().await;
    let fixture = paired_fixture();
    store_fixture_pairs(&setup, &fixture).await;
    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;

    let query = "baseline=elo&candidate=raptor&window=1d&at=2023-06-13T00:00:00Z";
    let (status, body) = get(&setup, "/v1/models/nba/compare", query).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_fixture(&body, &fixture);
    assert_eq!(body["paired_cap"], PAIRED_CAP);
    assert!(body.get("unpaired_reason").is_none(), "{body}");
}

#[tokio::test]
async fn compare_finds_hours_from_dirty_markers() {
    // No tick has run, so no hour aggregate exists and only the dirty markers name the hours.
    let setup = setup().await;
    let fixture = paired_fixture();
    store_fixture_pairs(&setup, &fixture).await;
    let query = "baseline=elo&candidate=raptor&window=1d&at=2023-06-13T00:00:00Z";
    let (status, body) = get(&setup, "/v1/models/nba/compare", query).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_fixture(&body, &fixture);
}

#[tokio::test]
async fn compare_disjoint_ids_is_unpaired() {
    let setup = setup().await;
    let elo = day_of_games("elo", 0.0, 20);
    let raptor: Vec<Value> = day_of_games("raptor", 0.05, 20)
        .into_iter()
        .map(|mut g| {
            g["id"] = json!(format!("other-{}", g["id"].as_str().unwrap()));
            g
        })
        .collect();
    post_predictions(&setup, "nba", elo).await;
    post_predictions(&setup, "nba", raptor).await;
    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;

    let query = "baseline=elo&candidate=raptor&window=1d&at=2023-06-13T00:00:00Z";
    let (status, body) = get(&setup, "/v1/models/nba/compare", query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["paired"], false);
    assert_eq!(body["shared_ids"], 0);
    assert!(body["unpaired_reason"].as_str().unwrap().contains("only 0"), "{body}");
    assert_eq!(body["metrics"]["accuracy"]["test"], "two_proportion_z");
    assert_eq!(body["metrics"]["roc_auc"]["test"], "hanley_mcneil");

    let (_, elo_metrics) = get(
        &setup,
        "/v1/models/nba/metrics",
        "version=elo&window=1d&at=2023-06-13T00:00:00Z",
    )
    .await;
    assert_eq!(
        body["metrics"]["accuracy"]["baseline"],
        elo_metrics["metrics"]["accuracy"]
    );
}

#[tokio::test]
async fn compare_same_version_is_400() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/compare", "baseline=elo&candidate=elo").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "candidate");
}

#[tokio::test]
async fn compare_unknown_version_is_404() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/compare", "baseline=elo&candidate=raptor").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["field"], "version");
}

#[tokio::test]
async fn compare_requires_both_versions() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/compare", "baseline=elo").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "candidate");
}

#[tokio::test]
async fn monitors_return_stored_rules() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 1)).await;
    let (status, body) = get(&setup, "/v1/models/nba/monitors", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "none");
    assert_eq!(body["monitors"], json!([]));

    let rules = json!([{ "name": "accuracy-floor", "kind": "threshold", "metric": "accuracy", "window": "7d",
                         "below": 0.6, "min_samples": 100 }]);
    write(
        &setup,
        "PUT",
        "/v1/models/nba/monitors",
        json!({ "monitors": rules.clone() }),
    )
    .await;
    let (status, body) = get(&setup, "/v1/models/nba/monitors", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "model");
    assert_eq!(body["monitors"], rules);
}

#[tokio::test]
async fn monitors_of_unknown_model_is_404() {
    let setup = setup().await;
    let (status, _) = get(&setup, "/v1/models/nope/monitors", "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn read_routes_reject_other_methods() {
    let setup = setup().await;
    let response = query::route(
        &setup.read(),
        &Request {
            method: "POST",
            path: "/v1/models/nba/metrics",
            query: None,
            body: b"{}",
        },
    )
    .await;
    assert_eq!(response.status, 405);
    assert_eq!(response.header("Allow"), Some("GET"));
}

#[tokio::test]
async fn hours_with_predictions_come_from_markers_then_aggregates() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (start, end) = (at("2023-06-12T00:00:00Z"), at("2023-06-13T00:00:00Z"));
    let expected: Vec<DateTime<Utc>> = (8..18).map(|h| start + TimeDelta::hours(h)).collect();

    let marked = setup
        .store
        .hours_with_predictions("nba", "elo", start, end)
        .await
        .unwrap();
    assert_eq!(marked, expected);

    tick(&setup.store, at("2023-06-13T00:10:00Z")).await;
    let aggregated = setup
        .store
        .hours_with_predictions("nba", "elo", start, end)
        .await
        .unwrap();
    assert_eq!(aggregated, expected);

    let other_version = setup
        .store
        .hours_with_predictions("nba", "raptor", start, end)
        .await
        .unwrap();
    assert!(other_version.is_empty());
}

/// Appends `count` alerts to the log of model `nba`, one hour apart, and stores two monitor
/// states, the way the degradation check does.
async fn store_alerts(setup: &Setup, count: usize) {
    use mpt_core::alert::{
        report::AlertRecord,
        state::{MonitorState, Severity, Status, Transition},
        store::{AlertStore, SaveResult, StoredState},
    };
    for i in 0..count {
        let record = AlertRecord {
            monitor: "auc-drop".into(),
            version: "raptor".into(),
            state: if i % 2 == 0 { "firing" } else { "resolved" }.into(),
            transition: if i % 2 == 0 {
                Transition::Fired
            } else {
                Transition::Resolved
            },
            severity: Severity::Warning,
            at: at("2023-06-12T00:00:00Z") + TimeDelta::hours(i as i64),
            metric: "roc_auc".into(),
            window: "1d".parse().unwrap(),
            value: Some(0.6),
            baseline: Some(0.7),
            p_value: Some(0.01),
            samples: (410, Some(8800)),
            subject: format!("alert {i}"),
            message_id: None,
        };
        setup.store.append("nba", &record).await.unwrap();
    }
    let firing = StoredState {
        state: MonitorState {
            status: Status::Firing,
            severity: Some(Severity::Critical),
            since: Some(at("2023-06-12T04:00:00Z")),
            ..MonitorState::default()
        },
        pending: None,
        revision: 1,
    };
    let ok = StoredState {
        revision: 1,
        ..StoredState::default()
    };
    for (version, state) in [("raptor", &firing), ("elo", &ok)] {
        let saved = setup.store.save("nba", "auc-drop", version, state).await.unwrap();
        assert_eq!(saved, SaveResult::Saved);
    }
}

#[tokio::test]
async fn alerts_page_oldest_first_with_current_states() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 1)).await;
    store_alerts(&setup, 5).await;

    let mut subjects = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let query = match &next {
            Some(token) => format!("limit=2&next={token}"),
            None => "limit=2".to_string(),
        };
        let (status, body) = get(&setup, "/v1/models/nba/alerts", &query).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["current"]["auc-drop"]["state"], "firing");
        assert_eq!(body["current"]["auc-drop"]["version"], "raptor");
        assert_eq!(body["current"]["auc-drop"]["versions"]["elo"]["state"], "ok");
        for alert in body["alerts"].as_array().unwrap() {
            subjects.push(alert["subject"].as_str().unwrap().to_string());
        }
        match body["next"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..5).map(|i| format!("alert {i}")).collect();
    assert_eq!(subjects, expected);
}

#[tokio::test]
async fn alerts_reject_tampered_token() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 1)).await;
    store_alerts(&setup, 3).await;
    let (_, body) = get(&setup, "/v1/models/nba/alerts", "limit=1").await;
    let token = body["next"].as_str().unwrap();
    let tampered = format!("{}A", &token[..token.len() - 1]);
    let tampered = if tampered == token {
        format!("{}B", &token[..token.len() - 1])
    } else {
        tampered
    };
    let (status, body) = get(&setup, "/v1/models/nba/alerts", &format!("limit=1&next={tampered}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "next");
}

#[tokio::test]
async fn alerts_token_of_other_model_is_rejected() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 1)).await;
    post_predictions(&setup, "wnba", day_of_games("elo", 0.0, 1)).await;
    store_alerts(&setup, 3).await;
    let (_, body) = get(&setup, "/v1/models/nba/alerts", "limit=1").await;
    let token = body["next"].as_str().unwrap();
    let (status, body) = get(&setup, "/v1/models/wnba/alerts", &format!("limit=1&next={token}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "next");
}

#[tokio::test]
async fn alerts_of_model_without_alerts_are_empty() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 1)).await;
    let (status, body) = get(&setup, "/v1/models/nba/alerts", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alerts"], json!([]));
    assert_eq!(body["current"], json!({}));
    assert_eq!(body["next"], Value::Null);
}

#[tokio::test]
async fn history_unknown_metric_lists_task_metrics() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let (status, body) = get(&setup, "/v1/models/nba/history", "metric=nope&window=1d").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "metric");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("\"nope\""), "{body}");
    assert!(detail.contains("roc_auc"), "{body}");
}

#[tokio::test]
async fn monitors_metric_of_other_task_is_400() {
    let setup = setup().await;
    post_predictions(&setup, "nba", day_of_games("elo", 0.0, 20)).await;
    let body = json!({ "monitors": [
        { "name": "floor", "kind": "threshold", "metric": "roc_auc", "window": "1d", "below": 0.6 },
        { "name": "error", "kind": "threshold", "metric": "mae", "window": "1d", "above": 3.0 } ] })
    .to_string();
    let response = ingest::route(
        &setup.write(),
        &Request {
            method: "PUT",
            path: "/v1/models/nba/monitors",
            query: None,
            body: body.as_bytes(),
        },
    )
    .await;
    assert_eq!(response.status, 400, "{}", response.body);
    let error: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(error["field"], "monitors[1].metric");
    assert!(error["detail"].as_str().unwrap().contains("\"mae\""), "{error}");
}
