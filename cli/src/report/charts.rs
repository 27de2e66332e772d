//! SVG charts for the report, drawn with plotters' SVG backend.
//!
//! The backend writes text as SVG `<text>` elements and sizes it by estimate, so drawing
//! loads no font and needs none installed. Every chart is returned as a string to
//! embed inline in the HTML.

use chrono::{DateTime, TimeDelta, Utc};
use plotters::{coord::Shift, prelude::*};

/// The size of a time-series chart, in pixels.
const TIME_CHART_SIZE: (u32, u32) = (900, 260);
/// The size of a reliability diagram, in pixels.
const RELIABILITY_SIZE: (u32, u32) = (420, 380);
/// A gap between consecutive points longer than this breaks the line (off-seasons, suspensions).
const MAX_LINE_GAP_DAYS: i64 = 7;
const SECONDS_PER_DAY: f64 = 86_400.0;
const LABEL_FONT: (&str, u32) = ("sans-serif", 13);
const AXIS_COLOR: RGBColor = RGBColor(90, 90, 90);
const GRID_COLOR: RGBColor = RGBColor(230, 230, 230);

/// A chart failure; plotters' errors carry no more than their text.
#[derive(Debug, thiserror::Error)]
#[error("could not draw the chart: {0}")]
pub struct ChartError(String);

fn chart_error<E: std::fmt::Display>(error: E) -> ChartError {
    ChartError(error.to_string())
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend label.
    pub label: String,
    /// The line colour.
    pub color: RGBColor,
    /// Points in time order.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A vertical marker at a moment, such as an alert.
#[derive(Debug, Clone)]
pub struct Marker {
    /// The moment it marks.
    pub at: DateTime<Utc>,
    /// The marker's colour.
    pub color: RGBColor,
    /// True for a filled triangle (an alert firing), false for an outline (resolved).
    pub filled: bool,
}

/// Draws lines over time with optional alert markers along the top edge.
///
/// `y_range` fixes the vertical axis; without it the axis spans the data with a small margin.
pub fn time_series(
    series: &[Series],
    markers: &[Marker],
    y_label: &str,
    y_range: Option<(f64, f64)>,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, TIME_CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw_time_series(&root, series, markers, y_label, y_range)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn draw_time_series(
    root: &DrawingArea<SVGBackend, Shift>,
    series: &[Series],
    markers: &[Marker],
    y_label: &str,
    y_range: Option<(f64, f64)>,
) -> Result<(), ChartError> {
    // The data alone sets the time axis, so an alert outside it cannot stretch the chart.
    let times = series.iter().flat_map(|line| line.points.iter().map(|(at, _)| *at));
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return draw_empty(root);
    };
    let markers: Vec<&Marker> = markers
        .iter()
        .filter(|marker| (first..=last).contains(&marker.at))
        .collect();
    let x_range = day_number(first) - 1.0..day_number(last) + 1.0;
    let (y_min, y_max) = y_range.unwrap_or_else(|| value_range(series));
    let span_days = x_range.end - x_range.start;

    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .margin_right(20)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range, y_min..y_max)
        .map_err(chart_error)?;
    let format_x = |day: &f64| format_day(*day, span_days);
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&format_x)
        .y_desc(y_label)
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .axis_style(AXIS_COLOR)
        .bold_line_style(GRID_COLOR)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(chart_error)?;

    // Markers first, so the lines are drawn over their guides.
    for marker in &markers {
        let x = day_number(marker.at);
        let guide = marker.color.mix(0.35).stroke_width(1);
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(x, y_min), (x, y_max)], guide)))
            .map_err(chart_error)?;
        let top = y_max - (y_max - y_min) * 0.04;
        // Offsets in pixels around the anchor, so the triangle keeps its shape on any axis scale.
        let corners = vec![(0, -6), (-5, 4), (5, 4), (0, -6)];
        let anchor = EmptyElement::at((x, top));
        if marker.filled {
            chart
                .draw_series(std::iter::once(anchor + Polygon::new(corners, marker.color.filled())))
                .map_err(chart_error)?;
        } else {
            chart
                .draw_series(std::iter::once(
                    anchor + PathElement::new(corners, marker.color.stroke_width(2)),
                ))
                .map_err(chart_error)?;
        }
    }

    // The legend is HTML beside the chart, where it never hides a line.
    for line in series {
        let style = line.color.stroke_width(2);
        for segment in split_at_gaps(&line.points) {
            let points = segment.iter().map(|(at, value)| (day_number(*at), *value));
            chart.draw_series(LineSeries::new(points, style)).map_err(chart_error)?;
        }
    }
    Ok(())
}

/// One version's reliability table: mean predicted probability and observed rate per bin.
#[derive(Debug, Clone)]
pub struct ReliabilityCurve {
    /// The legend label.
    pub label: String,
    /// The line colour.
    pub color: RGBColor,
    /// `(mean predicted probability, observed positive rate, records)` per non-empty bin.
    pub bins: Vec<(f64, f64, u64)>,
}

/// Draws reliability curves against the diagonal of perfect calibration.
pub fn reliability(curves: &[ReliabilityCurve]) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, RELIABILITY_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_desc("predicted probability that team1 wins")
            .y_desc("share of games team1 won")
            .label_style(LABEL_FONT)
            .axis_desc_style(LABEL_FONT)
            .axis_style(AXIS_COLOR)
            .bold_line_style(GRID_COLOR)
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                AXIS_COLOR.mix(0.6).stroke_width(1),
            )))
            .map_err(chart_error)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], AXIS_COLOR.stroke_width(1)));
        for curve in curves {
            let color = curve.color;
            let points: Vec<(f64, f64)> = curve.bins.iter().map(|(x, y, _)| (*x, *y)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(curve.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
            chart
                .draw_series(points.into_iter().map(|point| Circle::new(point, 3, color.filled())))
                .map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(LABEL_FONT)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID_COLOR)
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn draw_empty(root: &DrawingArea<SVGBackend, Shift>) -> Result<(), ChartError> {
    let (width, height) = root.dim_in_pixel();
    let style = TextStyle::from(LABEL_FONT).color(&AXIS_COLOR);
    root.draw_text(
        "no data in the replay",
        &style,
        (width as i32 / 2 - 70, height as i32 / 2),
    )
    .map_err(chart_error)
}

/// Returns days since the Unix epoch, the x coordinate of every time chart.
fn day_number(at: DateTime<Utc>) -> f64 {
    at.timestamp() as f64 / SECONDS_PER_DAY
}

/// Formats an x coordinate as a date, coarser when the chart spans years.
fn format_day(day: f64, span_days: f64) -> String {
    let Some(at) = DateTime::from_timestamp((day * SECONDS_PER_DAY) as i64, 0) else {
        return String::new();
    };
    if span_days > 365.0 * 15.0 {
        at.format("%Y").to_string()
    } else if span_days > 400.0 {
        at.format("%Y-%m").to_string()
    } else {
        at.format("%Y-%m-%d").to_string()
    }
}

/// Returns the span of every value with a 5% margin, or (0, 1) without values.
fn value_range(series: &[Series]) -> (f64, f64) {
    let values = series
        .iter()
        .flat_map(|line| line.points.iter().map(|(_, value)| *value));
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !min.is_finite() || !max.is_finite() {
        return (0.0, 1.0);
    }
    let margin = ((max - min) * 0.05).max(1e-3);
    (min - margin, max + margin)
}

/// Splits points in time order wherever consecutive points are more than a week apart.
fn split_at_gaps(points: &[(DateTime<Utc>, f64)]) -> Vec<&[(DateTime<Utc>, f64)]> {
    let max_gap = TimeDelta::days(MAX_LINE_GAP_DAYS);
    let mut segments = Vec::new();
    let mut start = 0;
    for index in 1..=points.len() {
        if index == points.len() || points[index].0 - points[index - 1].0 > max_gap {
            if index > start {
                segments.push(&points[start..index]);
            }
            start = index;
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_600_000_000 + n * 86_400, 0).unwrap()
    }

    fn line(points: &[(i64, f64)]) -> Series {
        Series {
            label: "elo".to_string(),
            color: BLUE,
            points: points.iter().map(|(d, v)| (day(*d), *v)).collect(),
        }
    }

    #[test]
    fn split_breaks_line_at_long_gap() {
        let series = line(&[(0, 0.5), (1, 0.6), (30, 0.7)]);
        assert_eq!(split_at_gaps(&series.points).len(), 2);
    }

    #[test]
    fn split_keeps_daily_points_together() {
        let series = line(&[(0, 0.5), (1, 0.6), (2, 0.7)]);
        assert_eq!(split_at_gaps(&series.points).len(), 1);
    }

    #[test]
    fn time_series_is_svg_with_line() {
        let svg = time_series(&[line(&[(0, 0.5), (1, 0.6)])], &[], "ROC-AUC", None).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn time_series_draws_marker() {
        let marker = Marker {
            at: day(1),
            color: RED,
            filled: true,
        };
        let svg = time_series(&[line(&[(0, 0.5), (2, 0.6)])], &[marker], "ROC-AUC", Some((0.0, 1.0))).unwrap();
        assert!(svg.contains("<polygon"));
    }

    #[test]
    fn time_series_without_data_says_so() {
        let svg = time_series(&[], &[], "ROC-AUC", None).unwrap();
        assert!(svg.contains("no data in the replay"));
    }

    #[test]
    fn reliability_draws_diagonal_legend() {
        let curve = ReliabilityCurve {
            label: "raptor".to_string(),
            color: RED,
            bins: vec![(0.25, 0.3, 10), (0.75, 0.7, 12)],
        };
        let svg = reliability(&[curve]).unwrap();
        assert!(svg.contains("perfect calibration"));
    }

    #[test]
    fn format_day_uses_months_for_years() {
        assert_eq!(format_day(day_number(day(0)), 1_300.0), "2020-09");
    }

    #[test]
    fn format_day_uses_days_for_one_season() {
        assert_eq!(format_day(day_number(day(0)), 230.0), "2020-09-13");
    }

    #[test]
    fn time_series_ignores_marker_outside_data() {
        let marker = Marker {
            at: day(900),
            color: RED,
            filled: true,
        };
        let svg = time_series(&[line(&[(0, 0.5), (2, 0.6)])], &[marker], "ROC-AUC", None).unwrap();
        assert!(!svg.contains("<polygon"));
    }
}
