//! The read commands: `mpt models`, `metrics`, `history`, `compare`, `alerts` and
//! `monitors get|set`, against the API at `--api` or `MPT_API_URL`.
//!
//! Each prints a table, or the API's JSON response with `--json`. Requests to a loopback address
//! go out plain; requests to any other host are signed with SigV4 from the standard AWS
//! credential chain, as an API deployed with IAM auth requires.

mod client;
mod render;
mod table;

use std::{io::Write, path::PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use client::{encode, ApiClient};

/// A failed read command: a usage error exits with status 2, any other failure with 1.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The arguments are invalid, or the API rejected them as invalid.
    #[error("{0}")]
    Usage(String),
    /// The request failed or the API responded with an error.
    #[error("{0}")]
    Failure(String),
}

impl ReadError {
    /// Returns the exit status for this error.
    pub fn status(&self) -> u8 {
        match self {
            ReadError::Usage(_) => 2,
            ReadError::Failure(_) => 1,
        }
    }
}

/// The API's location and the output format.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the API, such as http://127.0.0.1:8080 or
    /// https://ID.execute-api.REGION.amazonaws.com/prod.
    #[arg(long, env = "MPT_API_URL", value_name = "URL")]
    api: Option<String>,
    /// Print the API's JSON response instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `mpt models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `mpt metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    /// The version; the one with the most recent prediction when absent.
    #[arg(long)]
    version: Option<String>,
    /// The window, whole hours or days from 1h to 90d; the API's default (7d) when absent.
    #[arg(long)]
    window: Option<String>,
    /// A segment as key:value, such as stage:finals.
    #[arg(long)]
    segment: Option<String>,
    /// The time the window ends at, RFC 3339 (rounded down to the hour); now when absent.
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `mpt history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    /// The metric, such as roc_auc, accuracy, psi or latency_p99_ms.
    #[arg(long)]
    metric: String,
    /// The window of the series; the API's default (1d) when absent.
    #[arg(long)]
    window: Option<String>,
    /// The version; the one with the most recent prediction when absent.
    #[arg(long)]
    version: Option<String>,
    /// A segment as key:value.
    #[arg(long)]
    segment: Option<String>,
    /// Earliest window end to list, RFC 3339.
    #[arg(long)]
    from: Option<String>,
    /// Latest window end to list, RFC 3339; now when absent.
    #[arg(long)]
    to: Option<String>,
    /// Points per page, from 1 to 1000.
    #[arg(long)]
    limit: Option<u32>,
    /// The `next` token printed by the previous page.
    #[arg(long, conflicts_with = "all")]
    next: Option<String>,
    /// Follow every page and print all points.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `mpt compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    /// The version compared against.
    #[arg(long)]
    baseline: String,
    /// The version under test.
    #[arg(long)]
    candidate: String,
    /// The window both versions are compared over; the API's default (30d) when absent.
    #[arg(long)]
    window: Option<String>,
    /// The time the window ends at, RFC 3339; now when absent.
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `mpt alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    /// Alerts per page, from 1 to 1000.
    #[arg(long)]
    limit: Option<u32>,
    /// The `next` token printed by the previous page.
    #[arg(long, conflicts_with = "all")]
    next: Option<String>,
    /// Follow every page and print all alerts.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    api: ApiArgs,
}

/// `mpt monitors get|set`.
#[derive(Debug, Subcommand)]
pub enum MonitorsCommand {
    /// Print a model's monitor rules.
    Get(MonitorsGetArgs),
    /// Replace a model's monitor rules with those in a JSON file, or on standard input.
    Set(MonitorsSetArgs),
}

/// Arguments of `mpt monitors get`.
#[derive(Debug, Args)]
pub struct MonitorsGetArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `mpt monitors set`.
#[derive(Debug, Args)]
pub struct MonitorsSetArgs {
    /// The model's name.
    #[arg(long)]
    model: String,
    /// A JSON file holding `{"monitors": [...]}` or the bare list; standard input when absent.
    #[arg(long)]
    file: Option<PathBuf>,
    #[command(flatten)]
    api: ApiArgs,
}

/// A read command, ready to run.
#[derive(Debug)]
pub enum ReadCommand {
    /// `mpt models`.
    Models(ModelsArgs),
    /// `mpt metrics`.
    Metrics(MetricsArgs),
    /// `mpt history`.
    History(HistoryArgs),
    /// `mpt compare`.
    Compare(CompareArgs),
    /// `mpt alerts`.
    Alerts(AlertsArgs),
    /// `mpt monitors get|set`.
    Monitors(MonitorsCommand),
}

/// Runs a read command and prints its result on standard output.
pub async fn run(command: ReadCommand) -> Result<(), ReadError> {
    let text = match command {
        ReadCommand::Models(args) => {
            let client = connect(&args.api).await?;
            let body = client.get("/v1/models", &[]).await?;
            output(&args.api, &body, render::models)
        }
        ReadCommand::Metrics(args) => {
            let client = connect(&args.api).await?;
            let query = present(&[
                ("window", &args.window),
                ("version", &args.version),
                ("segment", &args.segment),
                ("at", &args.at),
            ]);
            let body = client.get(&model_path(&args.model, "metrics"), &query).await?;
            output(&args.api, &body, render::metrics)
        }
        ReadCommand::History(args) => history(args).await?,
        ReadCommand::Compare(args) => {
            let client = connect(&args.api).await?;
            let mut query = vec![
                ("baseline", args.baseline.clone()),
                ("candidate", args.candidate.clone()),
            ];
            query.extend(present(&[("window", &args.window), ("at", &args.at)]));
            let body = client.get(&model_path(&args.model, "compare"), &query).await?;
            output(&args.api, &body, render::comparison)
        }
        ReadCommand::Alerts(args) => alerts(args).await?,
        ReadCommand::Monitors(MonitorsCommand::Get(args)) => {
            let client = connect(&args.api).await?;
            let body = client.get(&model_path(&args.model, "monitors"), &[]).await?;
            output(&args.api, &body, render::monitors)
        }
        ReadCommand::Monitors(MonitorsCommand::Set(args)) => {
            let rules = read_rules(args.file.as_ref())?;
            let client = connect(&args.api).await?;
            let body = client.put(&model_path(&args.model, "monitors"), &rules).await?;
            output(&args.api, &body, render::monitors)
        }
    };
    print(&text);
    Ok(())
}

async fn connect(api: &ApiArgs) -> Result<ApiClient, ReadError> {
    let url = api.api.as_deref().filter(|url| !url.is_empty()).ok_or_else(|| {
        ReadError::Usage(
            "no API URL is set; pass --api URL or set MPT_API_URL, for example http://127.0.0.1:8080".into(),
        )
    })?;
    ApiClient::connect(url).await
}

/// Returns `/v1/models/{model}/{endpoint}` with the model name percent-encoded.
fn model_path(model: &str, endpoint: &str) -> String {
    format!("/v1/models/{}/{endpoint}", encode(model))
}

/// Returns the query parameters that were given.
fn present<'a>(parameters: &[(&'a str, &Option<String>)]) -> Vec<(&'a str, String)> {
    parameters
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| (*name, value.clone())))
        .collect()
}

/// Returns the JSON response with `--json`, else the table `render` makes of it.
fn output(api: &ApiArgs, body: &Value, render: fn(&Value) -> String) -> String {
    if api.json {
        serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string()) + "\n"
    } else {
        render(body)
    }
}

/// Lists a metric's history: one page, or every page with `--all`.
async fn history(args: HistoryArgs) -> Result<String, ReadError> {
    let client = connect(&args.api).await?;
    let mut query = vec![("metric", args.metric.clone())];
    query.extend(present(&[
        ("window", &args.window),
        ("version", &args.version),
        ("segment", &args.segment),
        ("from", &args.from),
        ("to", &args.to),
    ]));
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    let path = model_path(&args.model, "history");
    let body = pages(&client, &path, query, args.next, args.all, "points").await?;
    Ok(output(&args.api, &body, render::history))
}

/// Lists a model's alerts: one page, or every page with `--all`.
async fn alerts(args: AlertsArgs) -> Result<String, ReadError> {
    let client = connect(&args.api).await?;
    let mut query = Vec::new();
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    let path = model_path(&args.model, "alerts");
    let body = pages(&client, &path, query, args.next, args.all, "alerts").await?;
    Ok(output(&args.api, &body, render::alerts))
}

/// Reads one page from `next`, or with `all` every page, joining their `list_key` arrays into
/// the last page's response.
async fn pages(
    client: &ApiClient,
    path: &str,
    query: Vec<(&str, String)>,
    next: Option<String>,
    all: bool,
    list_key: &str,
) -> Result<Value, ReadError> {
    let mut next = next;
    let mut items = Vec::new();
    loop {
        let mut page_query = query.clone();
        if let Some(token) = &next {
            page_query.push(("next", token.clone()));
        }
        let mut body = client.get(path, &page_query).await?;
        items.extend(body[list_key].as_array().cloned().unwrap_or_default());
        next = body["next"].as_str().map(String::from);
        if !all || next.is_none() {
            body[list_key] = Value::Array(items);
            return Ok(body);
        }
    }
}

/// Reads monitor rules from `file` or standard input, as the body of a PUT.
fn read_rules(file: Option<&PathBuf>) -> Result<Value, ReadError> {
    let (name, text) = match file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|error| {
                ReadError::Usage(format!(
                    "cannot read rules file {} ({error}); pass a readable JSON file",
                    path.display()
                ))
            })?,
        ),
        None => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|error| ReadError::Usage(format!("cannot read rules from standard input ({error})")))?;
            ("standard input".to_string(), text)
        }
    };
    let value: Value = serde_json::from_str(&text).map_err(|error| {
        ReadError::Usage(format!(
            "the rules in {name} are not JSON ({error}); write {{\"monitors\": [...]}} or the bare list"
        ))
    })?;
    match value {
        Value::Array(_) => Ok(json!({ "monitors": value })),
        Value::Object(ref map) if map.contains_key("monitors") => Ok(value),
        _ => Err(ReadError::Usage(format!(
            "the rules in {name} are neither {{\"monitors\": [...]}} nor a list of rules; write one of those"
        ))),
    }
}

/// Writes `text` to standard output, ignoring a closed pipe (as when piped into `head`).
fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_path_encodes_name() {
        assert_eq!(model_path("nba game", "metrics"), "/v1/models/nba%20game/metrics");
    }

    #[test]
    fn present_keeps_given_parameters() {
        let query = present(&[("window", &Some("7d".into())), ("version", &None)]);
        assert_eq!(query, vec![("window", "7d".to_string())]);
    }

    #[test]
    fn rules_list_is_wrapped() {
        let dir = std::env::temp_dir().join(format!("mpt-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.json");
        std::fs::write(
            &path,
            r#"[{"name": "silence", "kind": "volume", "window": "1h", "below": 1}]"#,
        )
        .unwrap();
        let body = read_rules(Some(&path)).unwrap();
        assert_eq!(body["monitors"][0]["name"], "silence");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rules_of_other_shape_are_usage_error() {
        let dir = std::env::temp_dir().join(format!("mpt-rules-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.json");
        std::fs::write(&path, r#"{"rules": []}"#).unwrap();
        let error = read_rules(Some(&path)).unwrap_err();
        assert_eq!(error.status(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_rules_file_is_usage_error() {
        let error = read_rules(Some(&PathBuf::from("/nonexistent/rules.json"))).unwrap_err();
        assert_eq!(error.status(), 2);
        assert!(error.to_string().contains("/nonexistent/rules.json"));
    }
}
