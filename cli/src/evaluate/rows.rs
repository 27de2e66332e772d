//! Reading the input CSV of `mpt evaluate` into typed records, one per row.
//!
//! A row whose actual or prediction cell is empty is skipped. Any other cell that cannot be
//! read stops the run with an error naming the row, the column, the value and the fix.

use std::path::Path;

use mpt_metrics::multiclass::PROBABILITY_SUM_TOLERANCE;

use super::{comparison::Operator, window::parse_timestamp, EvaluateError};

/// A CSV column, by header name and position.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The 0-based position in each row.
    pub index: usize,
}

/// The source of a binary actual: a label column or a comparison of two columns.
#[derive(Debug, Clone)]
pub enum BinaryActual {
    /// A column of 0, 1, true or false.
    Column(Column),
    /// Positive when the comparison of two numeric columns is true.
    Comparison {
        left: Column,
        operator: Operator,
        right: Column,
    },
}

/// The columns that one task reads.
#[derive(Debug, Clone)]
pub enum Columns {
    /// A probability of the positive class and a binary actual.
    Binary { prediction: Column, actual: BinaryActual },
    /// A predicted class label and an actual class label.
    MulticlassLabels { prediction: Column, actual: Column },
    /// One probability column per class, in class order, and an actual class label.
    MulticlassProbabilities {
        classes: Vec<String>,
        probabilities: Vec<Column>,
        actual: Column,
    },
    /// A predicted number and an actual number.
    Regression { prediction: Column, actual: Column },
}

/// The model output of a multiclass row.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassOutput {
    /// A predicted class label.
    Label(String),
    /// One probability per class, in class order.
    Probabilities(Vec<f64>),
}

/// One readable row.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A binary row.
    Binary { score: f64, actual: bool },
    /// A multiclass row.
    Multiclass { output: ClassOutput, actual: String },
    /// A regression row.
    Regression { prediction: f64, actual: f64 },
}

/// One data row: its timestamp when windows are on, and its record unless it was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Unix seconds, when `--timestamp-col` is given.
    pub timestamp_secs: Option<i64>,
    /// The record, or `None` for a row skipped because its actual or prediction is empty.
    pub record: Option<Record>,
}

/// The header of an opened CSV file, for resolving column names.
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// Finds `name` in the header, or returns a usage error listing the columns there are.
    pub fn column(&self, name: &str, flag: &str) -> Result<Column, EvaluateError> {
        match self.names.iter().position(|header| header == name) {
            Some(index) => Ok(Column {
                name: name.to_string(),
                index,
            }),
            None => Err(EvaluateError::Usage(format!(
                "column {name:?} given by {flag} is not in the header; the columns are {}",
                self.names.join(", ")
            ))),
        }
    }
}

/// Opens `path` as a CSV file with a header row.
pub fn open(path: &Path) -> Result<(csv::Reader<std::fs::File>, Header), EvaluateError> {
    let cannot_read = |error: csv::Error| {
        EvaluateError::Input(format!(
            "cannot read {}: {error}; check the path and that it is a CSV file",
            path.display()
        ))
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(cannot_read)?;
    let names = reader
        .headers()
        .map_err(cannot_read)?
        .iter()
        .map(str::to_string)
        .collect();
    Ok((reader, Header { names }))
}

/// Reads every data row of `reader` into a [`Row`].
pub fn read_rows(
    reader: &mut csv::Reader<std::fs::File>,
    path: &Path,
    columns: &Columns,
    timestamp: Option<&Column>,
) -> Result<Vec<Row>, EvaluateError> {
    let mut rows = Vec::new();
    for (index, result) in reader.records().enumerate() {
        let record = result.map_err(|error| {
            EvaluateError::Input(format!("cannot read {}: {error}; fix the CSV row", path.display()))
        })?;
        let line = record.position().map_or(index as u64 + 2, csv::Position::line);
        let cells = Cells {
            record: &record,
            row: index + 1,
            line,
        };
        let timestamp_secs = timestamp.map(|column| cells.timestamp(column)).transpose()?;
        rows.push(Row {
            timestamp_secs,
            record: cells.record_for(columns)?,
        });
    }
    Ok(rows)
}

/// The cells of one data row, with its position for error messages.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    /// 1-based data row number; the header is not counted.
    row: usize,
    /// 1-based line in the file.
    line: u64,
}

impl Cells<'_> {
    fn get(&self, column: &Column) -> &str {
        self.record.get(column.index).unwrap_or("").trim()
    }

    fn invalid(&self, column: &Column, value: &str, problem: &str) -> EvaluateError {
        EvaluateError::Input(format!(
            "row {} (line {}): column {:?} has {value:?}, which is {problem}; correct the value, \
             or empty the cell to skip the row",
            self.row, self.line, column.name
        ))
    }

    fn timestamp(&self, column: &Column) -> Result<i64, EvaluateError> {
        let value = self.get(column);
        if value.is_empty() {
            return Err(EvaluateError::Input(format!(
                "row {} (line {}): column {:?} is empty, so the row has no window; fill in its time or remove the row",
                self.row, self.line, column.name
            )));
        }
        parse_timestamp(value).ok_or_else(|| {
            EvaluateError::Input(format!(
                "row {} (line {}): column {:?} has {value:?}, which is not an RFC 3339 timestamp \
                 (2023-06-12T17:00:00Z) or a date (2023-06-12); correct the value",
                self.row, self.line, column.name
            ))
        })
    }

    fn number(&self, column: &Column) -> Result<f64, EvaluateError> {
        let value = self.get(column);
        match value.parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(number),
            _ => Err(self.invalid(column, value, "not a finite number")),
        }
    }

    fn probability(&self, column: &Column) -> Result<f64, EvaluateError> {
        let probability = self.number(column)?;
        if !(0.0..=1.0).contains(&probability) {
            return Err(self.invalid(column, self.get(column), "not a probability in [0, 1]"));
        }
        Ok(probability)
    }

    fn binary_label(&self, column: &Column) -> Result<bool, EvaluateError> {
        let value = self.get(column);
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(self.invalid(column, value, "not 0, 1, true or false")),
        }
    }

    /// Reads the record the columns describe, or `None` when the row is to be skipped.
    fn record_for(&self, columns: &Columns) -> Result<Option<Record>, EvaluateError> {
        match columns {
            Columns::Binary { prediction, actual } => self.binary(prediction, actual),
            Columns::MulticlassLabels { prediction, actual } => {
                let (predicted, actual) = (self.get(prediction), self.get(actual));
                if predicted.is_empty() || actual.is_empty() {
                    return Ok(None);
                }
                let output = ClassOutput::Label(predicted.to_string());
                Ok(Some(Record::Multiclass {
                    output,
                    actual: actual.to_string(),
                }))
            }
            Columns::MulticlassProbabilities {
                classes,
                probabilities,
                actual,
            } => self.multiclass_probabilities(classes, probabilities, actual),
            Columns::Regression { prediction, actual } => {
                if self.get(prediction).is_empty() || self.get(actual).is_empty() {
                    return Ok(None);
                }
                Ok(Some(Record::Regression {
                    prediction: self.number(prediction)?,
                    actual: self.number(actual)?,
                }))
            }
        }
    }

    fn binary(&self, prediction: &Column, actual: &BinaryActual) -> Result<Option<Record>, EvaluateError> {
        let actual_columns = match actual {
            BinaryActual::Column(column) => vec![column],
            BinaryActual::Comparison { left, right, .. } => vec![left, right],
        };
        if self.get(prediction).is_empty() || actual_columns.iter().any(|column| self.get(column).is_empty()) {
            return Ok(None);
        }

        let score = self.probability(prediction)?;
        let actual = match actual {
            BinaryActual::Column(column) => self.binary_label(column)?,
            BinaryActual::Comparison { left, operator, right } => {
                operator.apply(self.number(left)?, self.number(right)?)
            }
        };
        Ok(Some(Record::Binary { score, actual }))
    }

    fn multiclass_probabilities(
        &self,
        classes: &[String],
        probabilities: &[Column],
        actual: &Column,
    ) -> Result<Option<Record>, EvaluateError> {
        let empty: Vec<&Column> = probabilities
            .iter()
            .filter(|column| self.get(column).is_empty())
            .collect();
        if self.get(actual).is_empty() || empty.len() == probabilities.len() {
            return Ok(None);
        }
        if let Some(column) = empty.first() {
            return Err(EvaluateError::Input(format!(
                "row {} (line {}): column {:?} is empty but other probability columns are not; \
                 fill it in, or empty every probability column to skip the row",
                self.row, self.line, column.name
            )));
        }

        let values = probabilities
            .iter()
            .map(|column| self.probability(column))
            .collect::<Result<Vec<f64>, _>>()?;
        let sum: f64 = values.iter().sum();
        if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
            let names: Vec<&str> = probabilities.iter().map(|column| column.name.as_str()).collect();
            return Err(EvaluateError::Input(format!(
                "row {} (line {}): the probabilities in columns {} sum to {sum}, not 1 within {PROBABILITY_SUM_TOLERANCE}; \
                 correct them so that they sum to 1",
                self.row,
                self.line,
                names.join(", ")
            )));
        }

        let label = self.get(actual);
        if !classes.iter().any(|class| class == label) {
            return Err(self.invalid(
                actual,
                label,
                &format!("not one of the classes {} named by --prob-cols", classes.join(", ")),
            ));
        }
        Ok(Some(Record::Multiclass {
            output: ClassOutput::Probabilities(values),
            actual: label.to_string(),
        }))
    }
}
