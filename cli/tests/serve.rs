//! `mpt serve` as a process: start-up checks, the ingest route over plain HTTP/1.1, the body
//! cap, and graceful shutdown on SIGTERM. The routes run against the emulator at
//! `MPT_TEST_ENDPOINT`.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, ExitStatus, Stdio},
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
        .env("RUST_LOG", "info");
    command
}

/// A running `mpt serve` with a fresh table, stopped by its process id when dropped.
struct Server {
    child: Child,
    url: String,
    /// The log lines after the ready line.
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra_args: &[&str]) -> Self {
        let endpoint = std::env::var("MPT_TEST_ENDPOINT").expect(
            "MPT_TEST_ENDPOINT is not set; run scripts/test.sh, or export the URL `scripts/emulator.sh start` prints",
        );
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        let mut child = mpt()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra_args)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("MPT_TABLE", format!("serve-test-{nanos}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start the mpt binary");

        // Read the log on a thread until the ready line, and keep draining it afterwards.
        let stderr = child.stderr.take().unwrap();
        let (ready_sender, ready) = mpsc::channel();
        let (log_sender, log) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            for line in lines.by_ref() {
                if let (true, Some(start)) = (line.contains("listening"), line.find("http://127.0.0.1:")) {
                    let url: String = line[start..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = ready_sender.send(url);
                    break;
                }
            }
            for line in lines {
                let _ = log_sender.send(line);
            }
        });
        match ready.recv_timeout(READY_TIMEOUT) {
            Ok(url) => Self { child, url, log },
            Err(_) => {
                let _ = child.kill();
                panic!("mpt serve did not log its ready line within {READY_TIMEOUT:?}");
            }
        }
    }

    /// Waits up to `timeout` for a log line containing `text`.
    fn wait_for_log(&self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return Some(line),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Sends SIGTERM by process id and waits for the exit.
    fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("failed to run kill");
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one HTTP/1.1 request and returns the status and the JSON body.
fn request(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may respond to an oversized body before reading it, and close the connection.
    let _ = stream.write_all(body);

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response without a header end");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap())
}

#[test]
fn serve_non_loopback_is_usage_error() {
    let output = mpt()
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-remote"), "stderr: {stderr}");
}

#[test]
fn serve_without_endpoint_fails() {
    let output = mpt()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AWS_ENDPOINT_URL"), "stderr: {stderr}");
}

#[test]
fn serve_bad_tick_interval_is_usage_error() {
    let output = mpt().args(["serve", "--tick-every", "5s"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn serve_answers_per_record() {
    let server = Server::start();
    let registration = json!({ "task": "binary", "threshold": 0.5 }).to_string();
    let (status, answer) = request(
        server.address(),
        "PUT",
        "/v1/models/serve-test",
        registration.as_bytes(),
    );
    assert_eq!(status, 201, "answer: {answer}");

    let body = json!({
        "model": "serve-test",
        "predictions": [
            { "id": "g-1", "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.64, "actual": 1 },
            { "id": "g-2", "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 1.7 }
        ]
    });
    let (status, answer) = request(server.address(), "POST", "/v1/predictions", body.to_string().as_bytes());

    assert_eq!(status, 207, "answer: {answer}");
    assert_eq!(answer["stored"], 1);
    assert_eq!(answer["rejected"][0]["index"], 1);
    assert_eq!(answer["rejected"][0]["id"], "g-2");
    assert_eq!(answer["rejected"][0]["field"], "prediction");
    assert!(server.terminate().success());
}

#[test]
fn serve_repeated_batch_is_stored_again() {
    let server = Server::start();
    let body = json!({
        "model": "serve-repeat",
        "predictions": [ { "id": "g-1", "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.3 } ]
    })
    .to_string();
    let first = request(server.address(), "POST", "/v1/predictions", body.as_bytes());
    let second = request(server.address(), "POST", "/v1/predictions", body.as_bytes());

    assert_eq!(first.0, 200, "answer: {}", first.1);
    assert_eq!(second.0, 200, "answer: {}", second.1);
    assert_eq!(second.1["stored"], 1);
}

#[test]
fn serve_oversized_body_is_413() {
    let server = Server::start();
    let body = vec![b' '; 2 * 1024 * 1024];
    let (status, answer) = request(server.address(), "POST", "/v1/predictions", &body);

    assert_eq!(status, 413);
    assert_eq!(answer["error"], "body too large");
}

#[test]
fn serve_body_over_api_limit_rejected_by_router() {
    let server = Server::start();
    // Over the API's 1 MiB but under the server's read cap, so the router's own check rejects it.
    let body = vec![b' '; 1024 * 1024 + 16];
    let (status, answer) = request(server.address(), "POST", "/v1/predictions", &body);

    assert_eq!(status, 413, "answer: {answer}");
    let detail = answer["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("1048576"), "detail: {detail}");
}

#[test]
fn serve_unknown_route_is_json_404() {
    let server = Server::start();
    let (status, answer) = request(server.address(), "GET", "/v1/nothing-here", b"");

    assert_eq!(status, 404);
    assert!(answer["error"].is_string(), "answer: {answer}");
}

#[test]
fn serve_sigterm_exits_cleanly() {
    let server = Server::start();
    let status = server.terminate();

    assert!(status.success(), "exit: {status:?}");
}

#[test]
fn serve_tick_every_runs_both_functions() {
    let server = Server::start_with(&["--tick-every", "1h"]);
    let compute = server.wait_for_log("compute-metrics finished", Duration::from_secs(60));
    let check = server.wait_for_log("check-degradation finished", Duration::from_secs(60));

    assert!(compute.is_some(), "no compute-metrics run was logged within 60 s");
    assert!(check.is_some(), "no check-degradation run was logged within 60 s");
    assert!(server.terminate().success());
}

#[test]
fn serve_read_route_lists_model() {
    let server = Server::start();
    let body = json!({
        "model": "serve-read",
        "predictions": [ { "id": "g-1", "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.3 } ]
    })
    .to_string();
    let (status, answer) = request(server.address(), "POST", "/v1/predictions", body.as_bytes());
    assert_eq!(status, 200, "answer: {answer}");

    let (status, answer) = request(server.address(), "GET", "/v1/models", b"");
    assert_eq!(status, 200, "answer: {answer}");
    assert_eq!(answer["models"][0]["model"], "serve-read");
    assert_eq!(answer["models"][0]["predictions"], 1);
}

#[test]
fn serve_wrong_method_lists_both_route_sets() {
    let server = Server::start();
    let (status, answer) = request(server.address(), "DELETE", "/v1/models/serve-any/monitors", b"");

    assert_eq!(status, 405, "answer: {answer}");
    let detail = answer["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("GET, PUT"), "detail: {detail}");
}
