//! The read commands as processes, against a running `mpt serve` on loopback backed by the
//! emulator at `MPT_TEST_ENDPOINT`: tables, `--json`, exit statuses and error lines.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Value};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

fn mpt() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mpt"));
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("MPT_API_URL")
        .env_remove("MPT_API_KEY");
    command
}

/// A running `mpt serve` with a fresh table, stopped by its process id when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Self {
        let endpoint = std::env::var("MPT_TEST_ENDPOINT").expect(
            "MPT_TEST_ENDPOINT is not set; run scripts/test.sh, or export the URL `scripts/emulator.sh start` prints",
        );
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        let mut child = mpt()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("MPT_TABLE", format!("read-test-{nanos}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start the mpt binary");

        // Read the log until the ready line, then keep draining it so the server never blocks.
        let stderr = child.stderr.take().unwrap();
        let (ready_sender, ready) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            for line in lines.by_ref() {
                if let (true, Some(start)) = (line.contains("listening"), line.find("http://127.0.0.1:")) {
                    let url: String = line[start..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = ready_sender.send(url);
                    break;
                }
            }
            for _ in lines {}
        });
        match ready.recv_timeout(READY_TIMEOUT) {
            Ok(url) => Self { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!("mpt serve did not log its ready line within {READY_TIMEOUT:?}");
            }
        }
    }

    /// Sends one write request over plain HTTP/1.1 and returns the status.
    fn send(&self, method: &str, path: &str, body: &Value) -> u16 {
        let address = self.url.trim_start_matches("http://");
        let body = body.to_string();
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        raw.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Runs `mpt` with `args` against this server.
    fn run(&self, args: &[&str]) -> Output {
        mpt().args(args).args(["--api", &self.url]).output().unwrap()
    }

    /// Stores twenty labelled predictions of model `nba`, version `elo`.
    fn store_games(&self) {
        let predictions: Vec<Value> = (0..20)
            .map(|i| {
                json!({ "id": format!("g{i}"), "version": "elo", "timestamp": "2023-06-12T18:00:00Z",
                        "prediction": if i % 3 == 0 { 0.3 } else { 0.7 }, "actual": i % 2 })
            })
            .collect();
        let status = self.send(
            "POST",
            "/v1/predictions",
            &json!({ "model": "nba", "predictions": predictions }),
        );
        assert_eq!(status, 200);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn models_table_lists_versions() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&["models"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.lines().next().unwrap().starts_with("model"), "{text}");
    assert!(text.contains("nba    binary  elo"), "{text}");
}

#[test]
fn metrics_json_is_api_answer() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&[
        "metrics",
        "--model",
        "nba",
        "--window",
        "1d",
        "--at",
        "2023-06-13T00:00:00Z",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let body: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(body["model"], "nba");
    assert_eq!(body["version"], "elo");
    assert_eq!(body["end"], "2023-06-13T00:00:00Z");
    assert_eq!(body["source"], "computed");
}

#[test]
fn metrics_table_has_summary_and_rows() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&[
        "metrics",
        "--model",
        "nba",
        "--window",
        "1d",
        "--at",
        "2023-06-13T00:00:00Z",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("nba elo, window 1d from 2023-06-12T00:00:00Z"),
        "{text}"
    );
    assert!(text.contains("metric"), "{text}");
}

#[test]
fn unknown_model_exits_one_with_one_line() {
    let server = Server::start();
    let output = server.run(&["metrics", "--model", "nope"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("nope"), "{message}");
}

#[test]
fn invalid_window_exits_two() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&["metrics", "--model", "nba", "--window", "2w"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("1h to 90d"), "{}", stderr(&output));
}

#[test]
fn compare_same_version_exits_two() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&["compare", "--model", "nba", "--baseline", "elo", "--candidate", "elo"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn history_without_points_says_so() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&["history", "--model", "nba", "--metric", "roc_auc", "--all"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("no stored points"), "{}", stdout(&output));
}

#[test]
fn alerts_without_entries_say_so() {
    let server = Server::start();
    server.store_games();
    let output = server.run(&["alerts", "--model", "nba"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("no alerts were sent"), "{}", stdout(&output));
}

#[test]
fn monitors_set_then_get_round_trips() {
    let server = Server::start();
    server.store_games();
    let dir = std::env::temp_dir().join(format!("mpt-read-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rules.json");
    let rules = json!([{ "name": "accuracy-floor", "kind": "threshold", "metric": "accuracy", "window": "7d",
                         "below": 0.6, "min_samples": 100 }]);
    std::fs::write(&file, rules.to_string()).unwrap();

    let set = server.run(&["monitors", "set", "--model", "nba", "--file", file.to_str().unwrap()]);
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    assert!(stdout(&set).contains("accuracy-floor"), "{}", stdout(&set));

    let get = server.run(&["monitors", "get", "--model", "nba", "--json"]);
    assert_eq!(get.status.code(), Some(0), "{}", stderr(&get));
    let body: Value = serde_json::from_str(&stdout(&get)).unwrap();
    assert_eq!(body["monitors"], rules);
    assert_eq!(body["source"], "model");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_api_url_exits_two() {
    let output = mpt().args(["metrics", "--model", "nba"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MPT_API_URL"), "{}", stderr(&output));
}

#[test]
fn unreachable_api_exits_one() {
    // Bind a port, then free it, so nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = mpt()
        .args(["models", "--api", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("could not reach"), "{}", stderr(&output));
}
