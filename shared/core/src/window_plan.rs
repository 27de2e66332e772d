//! Which stored aggregates make up a window.
//!
//! Aggregates are stored per UTC hour (`H#{hour}`) and rolled up per UTC day (`D#{day}`). A window
//! `[start, end)` on hour boundaries is covered by the day items of every whole day inside it plus
//! the hour items of the partial days at its two edges, so a 90-day window reads at most 90 day
//! items and 46 hour items, however many predictions it holds. UTC has no daylight-saving
//! shifts, so every day is exactly 24 hours.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::time::{floor_day, floor_hour};

/// The largest number of items a plan can hold: 90 whole days plus 23 hours at each edge.
pub const MAX_PLAN_ITEMS: usize = 90 + 2 * 23;

/// The day and hour aggregates whose merge is exactly a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowPlan {
    /// Whole UTC days inside the window, oldest first.
    pub days: Vec<NaiveDate>,
    /// Starts of the UTC hours inside the window but outside every whole day, oldest first.
    pub hours: Vec<DateTime<Utc>>,
}

impl WindowPlan {
    /// Returns the number of items the plan reads.
    pub fn len(&self) -> usize {
        self.days.len() + self.hours.len()
    }

    /// Returns true when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.hours.is_empty()
    }
}

/// Plans the aggregates covering `[start, end)`.
///
/// Both bounds are first rounded down to the hour. An empty or inverted span gives an empty plan.
pub fn plan_window(start: DateTime<Utc>, end: DateTime<Utc>) -> WindowPlan {
    let start = floor_hour(start);
    let end = floor_hour(end);
    let mut plan = WindowPlan::default();
    if start >= end {
        return plan;
    }

    let first_whole_day = if floor_day(start) == start {
        start
    } else {
        floor_day(start) + TimeDelta::days(1)
    };
    let last_whole_day_end = floor_day(end);
    if first_whole_day >= last_whole_day_end {
        plan.hours = hours_between(start, end);
        return plan;
    }

    plan.hours = hours_between(start, first_whole_day);
    let mut day = first_whole_day;
    while day < last_whole_day_end {
        plan.days.push(day.date_naive());
        day += TimeDelta::days(1);
    }
    plan.hours.extend(hours_between(last_whole_day_end, end));
    plan
}

/// Returns every hour start in `[start, end)`, both on hour boundaries.
pub fn hours_between(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut hours = Vec::new();
    let mut hour = start;
    while hour < end {
        hours.push(hour);
        hour += TimeDelta::hours(1);
    }
    hours
}

/// Returns the 24 hour starts of a UTC day.
pub fn hours_of_day(day: NaiveDate) -> Vec<DateTime<Utc>> {
    let start = day.and_time(NaiveTime::MIN).and_utc();
    hours_between(start, start + TimeDelta::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn plan_one_hour_is_one_hour_item() {
        let plan = plan_window(at("2023-06-12T17:00:00Z"), at("2023-06-12T18:00:00Z"));
        assert_eq!(plan.hours, vec![at("2023-06-12T17:00:00Z")]);
        assert!(plan.days.is_empty());
    }

    #[test]
    fn plan_day_aligned_at_midnight_is_one_day_item() {
        let plan = plan_window(at("2023-06-12T00:00:00Z"), at("2023-06-13T00:00:00Z"));
        assert_eq!(plan.days, vec![day("2023-06-12")]);
        assert!(plan.hours.is_empty());
    }

    #[test]
    fn plan_day_not_aligned_is_24_hour_items() {
        let plan = plan_window(at("2023-06-12T05:00:00Z"), at("2023-06-13T05:00:00Z"));
        assert!(plan.days.is_empty());
        assert_eq!(plan.hours.len(), 24);
        assert_eq!(plan.hours[0], at("2023-06-12T05:00:00Z"));
        assert_eq!(plan.hours[23], at("2023-06-13T04:00:00Z"));
    }

    #[test]
    fn plan_week_has_edge_hours_and_whole_days() {
        let plan = plan_window(at("2023-06-10T05:00:00Z"), at("2023-06-17T05:00:00Z"));
        assert_eq!(plan.days.first(), Some(&day("2023-06-11")));
        assert_eq!(plan.days.last(), Some(&day("2023-06-16")));
        assert_eq!(plan.days.len(), 6);
        assert_eq!(plan.hours.len(), 19 + 5);
        assert_eq!(plan.hours[0], at("2023-06-10T05:00:00Z"));
        assert_eq!(plan.hours[18], at("2023-06-10T23:00:00Z"));
        assert_eq!(plan.hours[19], at("2023-06-17T00:00:00Z"));
        assert_eq!(plan.hours[23], at("2023-06-17T04:00:00Z"));
    }

    #[test]
    fn plan_covers_every_hour_exactly_once() {
        let start = at("2023-02-26T13:00:00Z");
        for window_hours in [1, 5, 23, 24, 25, 47, 48, 49, 24 * 30 + 7, 24 * 90] {
            let end = start + TimeDelta::hours(window_hours);
            let plan = plan_window(start, end);
            let mut covered: Vec<DateTime<Utc>> = plan.hours.clone();
            for d in &plan.days {
                covered.extend(hours_of_day(*d));
            }
            covered.sort();
            assert_eq!(covered, hours_between(start, end), "window of {window_hours} hours");
        }
    }

    #[test]
    fn plan_ninety_days_stays_within_item_bound() {
        let plan = plan_window(at("2023-01-01T11:00:00Z"), at("2023-04-01T11:00:00Z"));
        assert_eq!(plan.days.len(), 89);
        assert_eq!(plan.hours.len(), 13 + 11);
        assert!(plan.len() <= MAX_PLAN_ITEMS);
    }

    #[test]
    fn plan_crosses_leap_day_in_utc() {
        let plan = plan_window(at("2024-02-28T00:00:00Z"), at("2024-03-01T00:00:00Z"));
        assert_eq!(plan.days, vec![day("2024-02-28"), day("2024-02-29")]);
    }

    #[test]
    fn plan_rounds_bounds_down_to_hour() {
        let plan = plan_window(at("2023-06-12T17:59:59Z"), at("2023-06-12T18:30:00Z"));
        assert_eq!(plan.hours, vec![at("2023-06-12T17:00:00Z")]);
    }

    #[test]
    fn plan_empty_span_is_empty() {
        assert!(plan_window(at("2023-06-12T17:00:00Z"), at("2023-06-12T17:00:00Z")).is_empty());
        assert!(plan_window(at("2023-06-12T18:00:00Z"), at("2023-06-12T17:00:00Z")).is_empty());
    }
}
