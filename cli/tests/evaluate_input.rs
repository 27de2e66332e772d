//! `mpt evaluate` on CSV files as they come from other tools: empty files, spaces around
//! names, repeated header names and text that is not UTF-8.

use std::{
    path::Path,
    process::{Command, Output},
};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpt"))
        .arg("evaluate")
        .args(args)
        .output()
        .expect("the mpt binary runs")
}

/// Writes `content` to a file under the test's temporary directory and returns its path.
fn write_file(name: &str, content: &[u8]) -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("evaluate_input_{name}.csv"));
    std::fs::write(&path, content).expect("temporary CSV is writable");
    path.to_string_lossy().into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn binary(path: &str) -> Output {
    run(&[
        "--input",
        path,
        "--task",
        "binary",
        "--prediction-col",
        "score",
        "--actual-col",
        "label",
    ])
}

#[test]
fn empty_file_exits_1() {
    let path = write_file("empty", b"");
    assert_eq!(binary(&path).status.code(), Some(1));
}

#[test]
fn empty_file_message_says_no_header() {
    let path = write_file("empty_message", b"");
    let message = stderr(&binary(&path));
    assert!(message.contains("has no header row"), "{message}");
}
