//! The `--positive-when` comparison of `mpt evaluate`, such as `score1>score2`.

/// A comparison operator of `--positive-when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Equal,
    NotEqual,
}

impl Operator {
    /// Operators by their text, two-character ones first so that `>=` is not read as `>`.
    const SYMBOLS: [(&'static str, Operator); 6] = [
        (">=", Operator::GreaterOrEqual),
        ("<=", Operator::LessOrEqual),
        ("==", Operator::Equal),
        ("!=", Operator::NotEqual),
        (">", Operator::Greater),
        ("<", Operator::Less),
    ];

    /// Returns whether `left` compares to `right` by this operator.
    pub fn apply(self, left: f64, right: f64) -> bool {
        match self {
            Operator::Greater => left > right,
            Operator::GreaterOrEqual => left >= right,
            Operator::Less => left < right,
            Operator::LessOrEqual => left <= right,
            Operator::Equal => left == right,
            Operator::NotEqual => left != right,
        }
    }
}

/// Splits `COL_A>COL_B` into the two column names and the operator.
pub fn parse_comparison(text: &str) -> Option<(String, Operator, String)> {
    for (symbol, operator) in Operator::SYMBOLS {
        if let Some((left, right)) = text.split_once(symbol) {
            let (left, right) = (left.trim(), right.trim());
            let stray = |side: &str| side.is_empty() || side.contains(['<', '>', '=', '!']);
            if stray(left) || stray(right) {
                return None;
            }
            return Some((left.to_string(), operator, right.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_reads_greater() {
        let parsed = parse_comparison("score1>score2");
        assert_eq!(
            parsed,
            Some(("score1".to_string(), Operator::Greater, "score2".to_string()))
        );
    }

    #[test]
    fn comparison_reads_two_character_operator() {
        let parsed = parse_comparison("a >= b");
        assert_eq!(
            parsed,
            Some(("a".to_string(), Operator::GreaterOrEqual, "b".to_string()))
        );
    }

    #[test]
    fn comparison_rejects_reversed_operator() {
        assert_eq!(parse_comparison("a=>b"), None);
    }

    #[test]
    fn comparison_rejects_missing_column() {
        assert_eq!(parse_comparison(">b"), None);
    }

    #[test]
    fn comparison_rejects_no_operator() {
        assert_eq!(parse_comparison("score1"), None);
    }
}
