//! `mpt evaluate` on CSV files as they come from other tools (empty files, spaces around
//! names, repeated header names, text that is not UTF-8), and what its help states about the
//! output.

use std::{
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;

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

fn first_line(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|error| panic!("invalid JSON line {line:?}: {error}"))
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

fn multiclass(path: &str, prob_cols: &str) -> Output {
    run(&[
        "--input",
        path,
        "--task",
        "multiclass",
        "--actual-col",
        "result",
        "--prob-cols",
        prob_cols,
    ])
}

#[test]
fn empty_file_exits_1() {
    let path = write_file("empty", b"");
    assert_eq!(binary(&path).status.code(), Some(1));
}

#[test]
fn empty_file_message_names_missing_header() {
    let path = write_file("empty_message", b"");
    let message = stderr(&binary(&path));
    assert!(message.contains("has no header row"), "{message}");
}

#[test]
fn non_utf8_in_unread_column_is_ignored() {
    let path = write_file("latin1_unread", b"score,label,team\n0.8,1,Montr\xe9al\n0.3,0,Boston\n");
    let output = binary(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(first_line(&output)["count"], 2);
}

#[test]
fn non_utf8_in_unread_header_is_ignored() {
    let path = write_file("latin1_header", b"score,label,\xe9quipe\n0.8,1,x\n0.3,0,y\n");
    let output = binary(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(first_line(&output)["count"], 2);
}

#[test]
fn non_utf8_in_read_column_exits_1() {
    let path = write_file("latin1_read", b"score,label\n0.8,1\n0.3,\xff\n");
    assert_eq!(binary(&path).status.code(), Some(1));
}

#[test]
fn non_utf8_message_names_row_and_column() {
    let path = write_file("latin1_message", b"score,label\n0.8,1\n0.3,\xff\n");
    let message = stderr(&binary(&path));
    assert!(
        message.contains("row 2 (line 3): column \"label\" is not valid UTF-8"),
        "{message}"
    );
}

#[test]
fn short_row_exits_1() {
    let path = write_file("short_row", b"score,label\n0.8,1\n0.3\n");
    assert_eq!(binary(&path).status.code(), Some(1));
}

#[test]
fn short_row_message_names_row_and_lengths() {
    let path = write_file("short_row_message", b"score,label\n0.8,1\n0.3\n");
    let message = stderr(&binary(&path));
    assert!(
        message.contains("row 2 (line 3) has 1 field but the header has 2"),
        "{message}"
    );
}

#[test]
fn header_names_are_trimmed() {
    let path = write_file("header_spaces", b"score, label\n0.8, 1\n0.3, 0\n");
    let output = binary(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(first_line(&output)["count"], 2);
}

#[test]
fn repeated_header_name_exits_2() {
    let path = write_file("repeated_header", b"score,score,label\n0.8,0.1,1\n");
    assert_eq!(binary(&path).status.code(), Some(2));
}

#[test]
fn repeated_header_message_names_column() {
    let path = write_file("repeated_header_message", b"score,score,label\n0.8,0.1,1\n");
    let message = stderr(&binary(&path));
    assert!(
        message.contains("column \"score\" appears 2 times in the header"),
        "{message}"
    );
}

#[test]
fn prob_cols_spaces_are_trimmed() {
    let path = write_file("prob_cols_spaces", b"result,p1,p2,p3\nA,0.2,0.3,0.5\nH,0.6,0.3,0.1\n");
    let output = multiclass(&path, "H = p1, D = p2, A = p3");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(first_line(&output)["accuracy"], 1.0);
}

#[test]
fn prob_cols_shared_column_exits_2() {
    let path = write_file("prob_cols_shared", b"result,p1,p2\nH,0.5,0.5\n");
    assert_eq!(multiclass(&path, "H=p1,A=p1").status.code(), Some(2));
}

#[test]
fn help_states_confusion_matrix_order() {
    let help = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    assert!(help.contains("sorted as text"), "{help}");
}
