//! Number and HTML formatting shared by the report's sections and the terminal summary.

use std::fmt::Write;

use mpt_metrics::Metric;

/// The text shown for an undefined value.
pub const MISSING: &str = "–";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Formats a value with `decimals` places, or [`MISSING`].
pub fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| MISSING.to_string(), |v| format!("{v:.decimals$}"))
}

/// Formats a metric with `decimals` places, or [`MISSING`] when undefined.
pub fn metric(value: Metric, decimals: usize) -> String {
    number(value.value(), decimals)
}

/// Formats a fraction as a percentage with one decimal place, or [`MISSING`].
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| MISSING.to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// Formats a signed fraction as percentage points or a percentage, with an explicit sign.
pub fn signed_percent(value: f64) -> String {
    format!("{:+.1}%", value * 100.0)
}

/// Formats a p-value: `< 0.001` below a thousandth, otherwise three decimal places.
pub fn p_value(value: Option<f64>) -> String {
    match value {
        None => MISSING.to_string(),
        Some(p) if p < 0.001 => "< 0.001".to_string(),
        Some(p) => format!("{p:.3}"),
    }
}

/// Formats a count with thousands separators: 4870 becomes `4,870`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// An HTML table built row by row, with every cell escaped.
///
/// The first `text_columns` columns are left-aligned text; the rest are right-aligned numbers.
#[derive(Debug, Default)]
pub struct Table {
    html: String,
    text_columns: usize,
}

impl Table {
    /// Starts a table with a header row and `text_columns` leading text columns.
    pub fn new(headers: &[&str], text_columns: usize) -> Self {
        let mut html = String::from("<table><thead><tr>");
        for (index, header) in headers.iter().enumerate() {
            let class = if index < text_columns { " class=\"text\"" } else { "" };
            let _ = write!(html, "<th{class}>{}</th>", escape(header));
        }
        html.push_str("</tr></thead><tbody>");
        Self { html, text_columns }
    }

    /// Adds a row of cells.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> &mut Self {
        self.html.push_str("<tr>");
        for (index, cell) in cells.iter().enumerate() {
            let class = if index < self.text_columns {
                " class=\"text\""
            } else {
                ""
            };
            let _ = write!(self.html, "<td{class}>{}</td>", escape(cell.as_ref()));
        }
        self.html.push_str("</tr>");
        self
    }

    /// Returns the finished table's HTML.
    pub fn finish(mut self) -> String {
        self.html.push_str("</tbody></table>");
        self.html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup() {
        assert_eq!(escape("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }

    #[test]
    fn table_marks_text_columns() {
        let mut table = Table::new(&["a", "b"], 1);
        table.row(&["x", "1"]);
        assert!(table.finish().contains("<td class=\"text\">x</td>"));
    }

    #[test]
    fn count_groups_thousands() {
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn count_leaves_small_numbers() {
        assert_eq!(count(870), "870");
    }

    #[test]
    fn p_value_floors_small_values() {
        assert_eq!(p_value(Some(0.0002)), "< 0.001");
    }

    #[test]
    fn metric_undefined_is_dash() {
        assert_eq!(metric(Metric::Undefined("one class"), 3), MISSING);
    }

    #[test]
    fn table_escapes_cells() {
        let mut table = Table::new(&["a", "b"], 1);
        table.row(&["x", "<b>"]);
        assert!(table.finish().contains("<td>&lt;b&gt;</td>"));
    }
}
