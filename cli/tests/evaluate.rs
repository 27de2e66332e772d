//! `mpt evaluate`, run as a built binary, against scikit-learn fixtures and on malformed input.
//!
//! The fixtures come from scripts/fixtures/task_fixtures.py: the NBA forecasts in data/ and
//! small generated CSV files in tests/fixtures/evaluate/, with the expected output lines.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

/// Tolerance for exact metrics: relative to the expected value, absolute below 1.
const EXACT: f64 = 1e-9;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpt"))
        .arg("evaluate")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("the mpt binary runs")
}

fn stdout_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("invalid JSON line {line}: {error}")))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that an output object has exactly the expected keys and values.
fn assert_line_matches(actual: &Value, expected: &Value, context: &str) {
    let (actual, expected) = (
        actual.as_object().expect("output is an object"),
        expected.as_object().expect("object"),
    );
    let mut actual_keys: Vec<&String> = actual.keys().collect();
    let mut expected_keys: Vec<&String> = expected.keys().collect();
    actual_keys.sort();
    expected_keys.sort();
    assert_eq!(actual_keys, expected_keys, "{context}: keys");

    for (key, expected_value) in expected {
        assert_value_matches(&actual[key], expected_value, &format!("{context}: {key}"));
    }
}

fn assert_value_matches(actual: &Value, expected: &Value, context: &str) {
    match (actual, expected) {
        (Value::Number(actual), Value::Number(expected)) if expected.is_f64() || actual.is_f64() => {
            let (actual, expected) = (actual.as_f64().expect("number"), expected.as_f64().expect("number"));
            let tolerance = EXACT * expected.abs().max(1.0);
            assert!(
                (actual - expected).abs() <= tolerance,
                "{context}: expected {expected}, got {actual}"
            );
        }
        (Value::Array(actual), Value::Array(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{context}: length");
            for (index, (actual, expected)) in actual.iter().zip(expected).enumerate() {
                assert_value_matches(actual, expected, &format!("{context}[{index}]"));
            }
        }
        (Value::Object(actual), Value::Object(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{context}: keys");
            for (key, expected) in expected {
                assert_value_matches(&actual[key], expected, &format!("{context}.{key}"));
            }
        }
        _ => assert_eq!(actual, expected, "{context}"),
    }
}

fn fixture_cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evaluate/evaluate.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("evaluate fixtures are JSON")
}

#[test]
fn evaluate_matches_sklearn_fixtures() {
    for case in fixture_cases() {
        let name = case["name"].as_str().expect("case name");
        let args: Vec<&str> = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|arg| arg.as_str().expect("arg"))
            .collect();
        let output = run(&args);
        assert!(
            output.status.success(),
            "{name}: exit {:?}, stderr {}",
            output.status.code(),
            stderr(&output)
        );

        let lines = stdout_lines(&output);
        let expected = case["expected"].as_array().expect("expected lines");
        assert_eq!(lines.len(), expected.len(), "{name}: number of lines");
        for (index, (line, expected)) in lines.iter().zip(expected).enumerate() {
            assert_line_matches(line, expected, &format!("{name} line {}", index + 1));
        }
    }
}

/// Writes `content` to a CSV file under the test's temporary directory and returns its path.
fn write_csv(name: &str, content: &str) -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("evaluate_{name}.csv"));
    std::fs::write(&path, content).expect("temporary CSV is writable");
    path.to_string_lossy().into_owned()
}

const BINARY_HEADER: &str = "date,score,label\n";

fn binary_args(path: &str) -> Vec<&str> {
    vec![
        "--input",
        path,
        "--task",
        "binary",
        "--prediction-col",
        "score",
        "--actual-col",
        "label",
    ]
}

#[test]
fn evaluate_skips_empty_cells() {
    let path = write_csv(
        "skips",
        &format!("{BINARY_HEADER}2023-06-01,0.8,1\n2023-06-01,,1\n2023-06-01,0.3,\n"),
    );
    let lines = stdout_lines(&run(&binary_args(&path)));
    assert_eq!(lines[0]["skipped"], 2);
    assert_eq!(lines[0]["count"], 1);
}

#[test]
fn evaluate_bad_number_exits_1() {
    let path = write_csv(
        "bad_number",
        &format!("{BINARY_HEADER}2023-06-01,0.8,1\n2023-06-01,abc,0\n"),
    );
    let output = run(&binary_args(&path));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn evaluate_bad_number_message_names_row() {
    let path = write_csv(
        "bad_number_message",
        &format!("{BINARY_HEADER}2023-06-01,0.8,1\n2023-06-01,abc,0\n"),
    );
    let message = stderr(&run(&binary_args(&path)));
    assert_eq!(
        message.trim(),
        "error: row 2 (line 3): column \"score\" has \"abc\", which is not a finite number; correct the value, \
         or empty the cell to skip the row"
    );
}

#[test]
fn evaluate_probability_above_one_exits_1() {
    let path = write_csv("above_one", &format!("{BINARY_HEADER}2023-06-01,1.7,1\n"));
    let output = run(&binary_args(&path));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("\"1.7\", which is not a probability in [0, 1]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn evaluate_bad_label_names_accepted_values() {
    let path = write_csv("bad_label", &format!("{BINARY_HEADER}2023-06-01,0.5,yes\n"));
    let output = run(&binary_args(&path));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("column \"label\" has \"yes\", which is not 0, 1, true or false"));
}

#[test]
fn evaluate_bad_timestamp_exits_1() {
    let path = write_csv("bad_time", &format!("{BINARY_HEADER}2023/06/01,0.5,1\n"));
    let mut args = binary_args(&path);
    args.extend(["--timestamp-col", "date", "--window", "1d"]);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("column \"date\" has \"2023/06/01\", which is not an RFC 3339 timestamp"));
}

#[test]
fn evaluate_probability_sum_names_sum() {
    let path = write_csv("bad_sum", "result,p1,p2,p3\nH,0.5,0.3,0.4\n");
    let args = [
        "--input",
        &path,
        "--task",
        "multiclass",
        "--actual-col",
        "result",
        "--prob-cols",
        "H=p1,D=p2,A=p3",
    ];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("row 1 (line 2): the probabilities in columns p1, p2, p3 sum to 1.2"));
}

#[test]
fn evaluate_unknown_class_names_classes() {
    let path = write_csv("unknown_class", "result,p1,p2\nX,0.5,0.5\n");
    let args = [
        "--input",
        &path,
        "--task",
        "multiclass",
        "--actual-col",
        "result",
        "--prob-cols",
        "H=p1,A=p2",
    ];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("which is not one of the classes H, A named by --prob-cols"));
}

#[test]
fn evaluate_missing_column_exits_2() {
    let path = write_csv("missing_column", &format!("{BINARY_HEADER}2023-06-01,0.5,1\n"));
    let args = [
        "--input",
        &path,
        "--task",
        "binary",
        "--prediction-col",
        "prob",
        "--actual-col",
        "label",
    ];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the columns are date, score, label"));
}

#[test]
fn evaluate_partial_window_exits_2() {
    let path = write_csv("partial_window", &format!("{BINARY_HEADER}2023-06-01,0.5,1\n"));
    let mut args = binary_args(&path);
    args.extend(["--timestamp-col", "date", "--window", "90m"]);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("1h, 6h, 1d, 7d or 90d"));
}

#[test]
fn evaluate_window_without_timestamp_exits_2() {
    let path = write_csv("window_alone", &format!("{BINARY_HEADER}2023-06-01,0.5,1\n"));
    let mut args = binary_args(&path);
    args.extend(["--window", "1d"]);
    assert_eq!(run(&args).status.code(), Some(2));
}

#[test]
fn evaluate_positive_when_with_regression_exits_2() {
    let path = write_csv("positive_when_regression", "a,b,y\n1,2,3\n");
    let args = [
        "--input",
        &path,
        "--task",
        "regression",
        "--prediction-col",
        "a",
        "--positive-when",
        "a>b",
    ];
    assert_eq!(run(&args).status.code(), Some(2));
}

#[test]
fn evaluate_bad_comparison_exits_2() {
    let path = write_csv("bad_comparison", "p,a,b\n0.5,1,2\n");
    let args = [
        "--input",
        &path,
        "--task",
        "binary",
        "--prediction-col",
        "p",
        "--positive-when",
        "a=>b",
    ];
    assert_eq!(run(&args).status.code(), Some(2));
}

#[test]
fn evaluate_missing_file_exits_1() {
    let output = run(&[
        "--input",
        "no/such/file.csv",
        "--task",
        "regression",
        "--prediction-col",
        "a",
        "--actual-col",
        "b",
    ]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn evaluate_help_documents_positive_when() {
    let output = run(&["--help"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("--positive-when"));
}
