//! `mpt evaluate`: metrics of a CSV file of predictions and actuals, offline.

mod comparison;
mod report;
mod rows;
mod window;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
    path::PathBuf,
};

use clap::{Args, ValueEnum};
use mpt_metrics::binary::DEFAULT_THRESHOLD;
use serde::Serialize;

use comparison::parse_comparison;
use report::{Group, WindowBounds};
use rows::{BinaryActual, Columns, Header, Record, Row};
use window::{format_timestamp, parse_window, Window};

/// The kind of model being evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Task {
    /// The prediction is the probability of the positive class.
    Binary,
    /// The prediction is a class label, or one probability per class.
    Multiclass,
    /// The prediction is a number.
    Regression,
}

/// Options of `mpt evaluate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mpt evaluate --input games.csv --task binary --prediction-col elo_prob1 --positive-when 'score1>score2'
  mpt evaluate --input games.csv --task binary --prediction-col elo_prob1 --actual-col home_win --threshold 0.6
  mpt evaluate --input matches.csv --task multiclass --actual-col result --prob-cols H=prob1,D=probtie,A=prob2
  mpt evaluate --input matches.csv --task multiclass --prediction-col label --actual-col result
  mpt evaluate --input sales.csv --task regression --prediction-col yhat --actual-col y --timestamp-col date --window 7d

Rows whose actual or prediction cell is empty are skipped and counted in \"skipped\". A value that
cannot be read stops the run with exit status 1 and names the row, column and value.")]
pub struct EvaluateArgs {
    /// CSV file with a header row.
    #[arg(long, value_name = "FILE.csv")]
    input: PathBuf,

    /// Kind of model.
    #[arg(long, value_enum)]
    task: Task,

    /// Column of the prediction: the positive-class probability (binary), the predicted class
    /// label (multiclass) or the predicted number (regression).
    #[arg(long, value_name = "COL")]
    prediction_col: Option<String>,

    /// Column of the actual outcome: 0, 1, true or false (binary), a class label (multiclass)
    /// or a number (regression).
    #[arg(long, value_name = "COL")]
    actual_col: Option<String>,

    /// Binary only, instead of --actual-col: the actual is positive when this comparison of
    /// two numeric columns is true, for example 'score1>score2'. Operators: > >= < <= == !=.
    #[arg(long, value_name = "COMPARISON", conflicts_with = "actual_col")]
    positive_when: Option<String>,

    /// Multiclass only, instead of --prediction-col: one probability column per class as
    /// LABEL=COL pairs, for example H=prob1,D=probtie,A=prob2. Their order is the class order
    /// of the confusion matrix.
    #[arg(
        long,
        value_name = "LABEL=COL,...",
        value_delimiter = ',',
        conflicts_with = "prediction_col"
    )]
    prob_cols: Vec<String>,

    /// Binary only: a score at or above this probability predicts the positive class.
    /// [default: 0.5]
    #[arg(long, value_name = "PROBABILITY")]
    threshold: Option<f64>,

    /// Column of each row's time, RFC 3339 (2023-06-12T17:00:00Z) or a date (2023-06-12, read
    /// as midnight UTC). Prints one object per window; needs --window.
    #[arg(long, value_name = "COL", requires = "window")]
    timestamp_col: Option<String>,

    /// Length of the tumbling windows: whole hours or days from 1h to 90d, such as 6h, 1d or 7d.
    /// Day windows start at midnight UTC and hour windows on the hour (both counted from the
    /// Unix epoch). Every window from the first row's to the last row's is printed, empty ones
    /// included, one JSON object per line in time order, with "start" and "end" added.
    #[arg(long, value_name = "DURATION", requires = "timestamp_col", value_parser = parse_window)]
    window: Option<Window>,
}

/// A failure of `mpt evaluate`.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The flags do not fit together or do not match the file's header (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The file cannot be read or contains a value that cannot be used (exit status 1).
    #[error("{0}")]
    Input(String),
}

/// Runs `mpt evaluate` and prints the result on stdout.
pub fn run(args: &EvaluateArgs) -> Result<(), EvaluateError> {
    let (mut reader, header) = rows::open(&args.input)?;
    let columns = columns_for(args, &header)?;
    let threshold = threshold_for(args)?;
    let timestamp = args
        .timestamp_col
        .as_deref()
        .map(|name| header.column(name, "--timestamp-col"))
        .transpose()?;
    let rows = rows::read_rows(&mut reader, &args.input, &columns, timestamp.as_ref())?;
    let classes = classes_for(&columns, &rows)?;

    let mut output = std::io::stdout().lock();
    let mut evaluate = |group: &Group, window: Option<WindowBounds>| -> Result<(), EvaluateError> {
        let line = match args.task {
            Task::Binary => to_json_line(&report::binary(group, window, threshold)?),
            Task::Multiclass => to_json_line(&report::multiclass(group, window, &classes)?),
            Task::Regression => to_json_line(&report::regression(group, window)?),
        }?;
        writeln!(output, "{line}").map_err(|error| EvaluateError::Input(format!("cannot write to stdout: {error}")))
    };

    let Some(window) = args.window else {
        return evaluate(&group_all(rows), None);
    };
    let groups = group_by_window(rows, window);
    let (Some(first), Some(last)) = (groups.keys().next().copied(), groups.keys().next_back().copied()) else {
        return Ok(());
    };
    let empty = Group::default();
    let mut start = first;
    while start <= last {
        let end = start + window.length_secs();
        let bounds = WindowBounds {
            start: format_timestamp(start),
            end: format_timestamp(end),
        };
        evaluate(groups.get(&start).unwrap_or(&empty), Some(bounds))?;
        start = end;
    }
    Ok(())
}

fn to_json_line(report: &impl Serialize) -> Result<String, EvaluateError> {
    serde_json::to_string(report)
        .map_err(|error| EvaluateError::Input(format!("cannot format the result as JSON: {error}")))
}

fn group_all(rows: Vec<Row>) -> Group {
    let mut group = Group::default();
    for row in rows {
        add_row(&mut group, row);
    }
    group
}

fn group_by_window(rows: Vec<Row>, window: Window) -> BTreeMap<i64, Group> {
    let mut groups: BTreeMap<i64, Group> = BTreeMap::new();
    for row in rows {
        // Every row has a timestamp here: reading fails on a missing one when windows are on.
        let start = window.start_of(row.timestamp_secs.unwrap_or_default());
        add_row(groups.entry(start).or_default(), row);
    }
    groups
}

fn add_row(group: &mut Group, row: Row) {
    match row.record {
        Some(record) => group.records.push(record),
        None => group.skipped += 1,
    }
}

/// Checks which flags the task needs and resolves their columns in the header.
fn columns_for(args: &EvaluateArgs, header: &Header) -> Result<Columns, EvaluateError> {
    let usage = |message: &str| EvaluateError::Usage(message.to_string());
    let required = |flag: &str, value: &Option<String>| match value {
        Some(name) => header.column(name, flag),
        None => Err(usage(&format!("--task {} needs {flag}", task_name(args.task)))),
    };
    if args.task != Task::Binary && args.positive_when.is_some() {
        return Err(usage(
            "--positive-when works only with --task binary; give the actual with --actual-col",
        ));
    }
    if args.task != Task::Multiclass && !args.prob_cols.is_empty() {
        return Err(usage(
            "--prob-cols works only with --task multiclass; give the prediction with --prediction-col",
        ));
    }

    match args.task {
        Task::Binary => {
            let prediction = required("--prediction-col", &args.prediction_col)?;
            let actual = match (&args.actual_col, &args.positive_when) {
                (Some(name), None) => BinaryActual::Column(header.column(name, "--actual-col")?),
                (None, Some(comparison)) => comparison_actual(comparison, header)?,
                _ => return Err(usage("--task binary needs --actual-col or --positive-when")),
            };
            Ok(Columns::Binary { prediction, actual })
        }
        Task::Multiclass => {
            let actual = required("--actual-col", &args.actual_col)?;
            if args.prob_cols.is_empty() {
                let prediction = match &args.prediction_col {
                    Some(name) => header.column(name, "--prediction-col")?,
                    None => return Err(usage("--task multiclass needs --prediction-col or --prob-cols")),
                };
                return Ok(Columns::MulticlassLabels { prediction, actual });
            }
            let (classes, probabilities) = probability_columns(&args.prob_cols, header)?;
            Ok(Columns::MulticlassProbabilities {
                classes,
                probabilities,
                actual,
            })
        }
        Task::Regression => Ok(Columns::Regression {
            prediction: required("--prediction-col", &args.prediction_col)?,
            actual: required("--actual-col", &args.actual_col)?,
        }),
    }
}

fn task_name(task: Task) -> &'static str {
    match task {
        Task::Binary => "binary",
        Task::Multiclass => "multiclass",
        Task::Regression => "regression",
    }
}

fn comparison_actual(comparison: &str, header: &Header) -> Result<BinaryActual, EvaluateError> {
    let Some((left, operator, right)) = parse_comparison(comparison) else {
        return Err(EvaluateError::Usage(format!(
            "invalid --positive-when {comparison:?}: write two column names with one of > >= < <= == != \
             between them, like 'score1>score2'"
        )));
    };
    Ok(BinaryActual::Comparison {
        left: header.column(&left, "--positive-when")?,
        operator,
        right: header.column(&right, "--positive-when")?,
    })
}

fn probability_columns(pairs: &[String], header: &Header) -> Result<(Vec<String>, Vec<rows::Column>), EvaluateError> {
    let mut classes: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    for pair in pairs {
        let Some((label, name)) = pair
            .split_once('=')
            .filter(|(label, name)| !label.is_empty() && !name.is_empty())
        else {
            return Err(EvaluateError::Usage(format!(
                "invalid --prob-cols entry {pair:?}: write LABEL=COL pairs separated by commas, like H=prob1,D=probtie,A=prob2"
            )));
        };
        if classes.iter().any(|class| class == label) {
            return Err(EvaluateError::Usage(format!(
                "class {label:?} appears twice in --prob-cols; name each class once"
            )));
        }
        classes.push(label.to_string());
        columns.push(header.column(name, "--prob-cols")?);
    }
    if classes.len() < 2 {
        return Err(EvaluateError::Usage(
            "--prob-cols needs at least two classes, like H=prob1,A=prob2".to_string(),
        ));
    }
    Ok((classes, columns))
}

fn threshold_for(args: &EvaluateArgs) -> Result<f64, EvaluateError> {
    match args.threshold {
        None => Ok(DEFAULT_THRESHOLD),
        Some(_) if args.task != Task::Binary => Err(EvaluateError::Usage(
            "--threshold works only with --task binary".to_string(),
        )),
        Some(threshold) if (0.0..=1.0).contains(&threshold) => Ok(threshold),
        Some(threshold) => Err(EvaluateError::Usage(format!(
            "invalid --threshold {threshold}: give a probability in [0, 1], like 0.5"
        ))),
    }
}

/// Returns the class order: the --prob-cols order, or else the sorted labels seen in the file,
/// as scikit-learn orders them.
fn classes_for(columns: &Columns, rows: &[Row]) -> Result<Vec<String>, EvaluateError> {
    match columns {
        Columns::MulticlassProbabilities { classes, .. } => Ok(classes.clone()),
        Columns::MulticlassLabels { prediction, actual } => {
            let mut labels = BTreeSet::new();
            for row in rows {
                if let Some(Record::Multiclass {
                    output: rows::ClassOutput::Label(predicted),
                    actual,
                }) = &row.record
                {
                    labels.insert(predicted.clone());
                    labels.insert(actual.clone());
                }
            }
            if labels.len() < 2 {
                return Err(EvaluateError::Input(format!(
                    "columns {:?} and {:?} contain fewer than two distinct classes ({}); multiclass evaluation needs at least two",
                    prediction.name,
                    actual.name,
                    labels.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
            Ok(labels.into_iter().collect())
        }
        _ => Ok(Vec::new()),
    }
}
