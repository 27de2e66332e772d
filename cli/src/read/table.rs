//! Plain-text tables and the number formats the read commands print.

use serde_json::Value;

/// A table with a header row, printed with columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Builds an empty table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells print empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Returns true when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table, two spaces between columns and no trailing spaces.
    pub fn render(&self) -> String {
        let columns = self
            .headers
            .len()
            .max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Formats a number for a table: whole numbers as integers, others with four decimals, and very
/// small or large ones in scientific notation.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let magnitude = value.abs();
    if (1e-3..1e6).contains(&magnitude) {
        format!("{value:.4}")
    } else {
        format!("{value:.3e}")
    }
}

/// Formats a difference with its sign.
pub fn signed(value: f64) -> String {
    let text = number(value);
    if value > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// Formats a JSON value for a cell: numbers as [`number`], null as `null`, strings bare, objects
/// of scalars as `key value` pairs, and anything else as compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Number(n) => n.as_f64().map(number).unwrap_or_else(|| n.to_string()),
        Value::String(text) => text.clone(),
        Value::Object(map) if map.values().all(|v| !v.is_object() && !v.is_array()) => map
            .iter()
            .map(|(key, v)| format!("{key} {}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Formats an optional JSON number, or `-` when absent or null.
pub fn optional(value: &Value) -> String {
    if value.is_null() {
        "-".to_string()
    } else {
        cell(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_pads_columns_to_widest_cell() {
        let mut table = Table::new(&["metric", "value"]);
        table.row(vec!["accuracy".into(), "0.6400".into()]);
        table.row(vec!["f1".into(), "0.5".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "metric    value");
        assert_eq!(lines[1], "accuracy  0.6400");
        assert_eq!(lines[2], "f1        0.5");
    }

    #[test]
    fn number_formats_by_magnitude() {
        assert_eq!(number(120.0), "120");
        assert_eq!(number(0.64), "0.6400");
        assert_eq!(number(0.000_277), "2.770e-4");
        assert_eq!(number(-0.0093), "-0.0093");
    }

    #[test]
    fn signed_marks_positive_differences() {
        assert_eq!(signed(0.03), "+0.0300");
        assert_eq!(signed(-0.03), "-0.0300");
    }

    #[test]
    fn cell_flattens_objects_of_numbers() {
        assert_eq!(cell(&json!({ "p50": 12.0, "p99": 40.5 })), "p50 12, p99 40.5000");
        assert_eq!(cell(&json!(null)), "null");
        assert_eq!(cell(&json!(["A", "H"])), "[\"A\",\"H\"]");
    }
}
