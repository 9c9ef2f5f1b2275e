//! Reporting periods: inclusive UTC date ranges, from explicit dates or (fiscal) quarters.

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("invalid date {value:?}: expected YYYY-MM-DD, for example 2026-07-01")]
    BadDate { value: String },
    #[error("invalid quarter {value:?}: expected a calendar quarter like 2026Q3 or a fiscal quarter like FY27-Q3")]
    BadQuarter { value: String },
    #[error("the period ends ({to}) before it starts ({from}): swap --from and --to")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("fiscal year start month must be 1-12, got {0}")]
    BadFiscalStart(u32),
}

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed { from, to });
        }
        Ok(Period { from, to })
    }

    /// Both dates as the user typed them (`--from`, `--to`).
    pub fn from_dates(from: &str, to: &str) -> Result<Self, PeriodError> {
        Self::new(parse_date(from)?, parse_date(to)?)
    }

    /// `2026Q3` (July–September 2026) or `FY27-Q3` (fiscal; the year named is the year the
    /// fiscal year ends in, so with a February start FY27-Q3 is August–October 2026).
    pub fn parse_quarter(value: &str, fiscal_start_month: u32) -> Result<Self, PeriodError> {
        if !(1..=12).contains(&fiscal_start_month) {
            return Err(PeriodError::BadFiscalStart(fiscal_start_month));
        }
        let bad = || PeriodError::BadQuarter {
            value: value.to_string(),
        };
        let normalised = value.trim().to_ascii_uppercase();
        let (fiscal, rest) = match normalised.strip_prefix("FY") {
            Some(rest) => (true, rest),
            None => (false, normalised.as_str()),
        };
        let (year_part, quarter_part) = rest.split_once('Q').ok_or_else(bad)?;
        let year_part = year_part.trim_end_matches('-');
        if year_part.is_empty()
            || !year_part.bytes().all(|b| b.is_ascii_digit())
            || quarter_part.len() != 1
        {
            return Err(bad());
        }
        let quarter: u32 = quarter_part.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&quarter) {
            return Err(bad());
        }
        let mut year: i32 = year_part.parse().map_err(|_| bad())?;
        let start = if fiscal {
            year = match year_part.len() {
                2 => 2000 + year,
                4 => year,
                _ => return Err(bad()),
            };
            // A fiscal year starting in January is the calendar year; otherwise FY N began in N-1.
            let first_year = if fiscal_start_month == 1 {
                year
            } else {
                year - 1
            };
            let fy_start =
                NaiveDate::from_ymd_opt(first_year, fiscal_start_month, 1).ok_or_else(bad)?;
            fy_start + Months::new(3 * (quarter - 1))
        } else {
            if year_part.len() != 4 {
                return Err(bad());
            }
            NaiveDate::from_ymd_opt(year, 3 * (quarter - 1) + 1, 1).ok_or_else(bad)?
        };
        let end = (start + Months::new(3)).pred_opt().ok_or_else(bad)?;
        Self::new(start, end)
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.from.and_time(NaiveTime::MIN))
    }

    /// The first instant after the period.
    pub fn end_exclusive(&self) -> DateTime<Utc> {
        let next = self.to.succ_opt().unwrap_or(self.to);
        Utc.from_utc_datetime(&next.and_time(NaiveTime::MIN))
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        at >= self.start() && at < self.end_exclusive()
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// A short human label: `2026-07-01 – 2026-09-30`, or `2026Q3` when it is a calendar quarter.
    pub fn label(&self) -> String {
        let q = (self.from.month() - 1) / 3 + 1;
        if self.from.day() == 1 && (self.from.month() - 1) % 3 == 0 {
            if let Ok(cal) = Period::parse_quarter(&format!("{}Q{q}", self.from.year()), 1) {
                if cal == *self {
                    return format!("{}Q{q}", self.from.year());
                }
            }
        }
        self.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.from, self.to)
    }
}

fn parse_date(value: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| PeriodError::BadDate {
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn calendar_quarters() {
        let p = Period::parse_quarter("2026Q3", 2).unwrap();
        assert_eq!((p.from, p.to), (d("2026-07-01"), d("2026-09-30")));
        let p = Period::parse_quarter("2026-q1", 2).unwrap();
        assert_eq!((p.from, p.to), (d("2026-01-01"), d("2026-03-31")));
        let p = Period::parse_quarter("2024Q1", 2).unwrap();
        assert_eq!(p.days(), 91, "leap year Q1");
        assert_eq!(p.label(), "2024Q1");
    }

    #[test]
    fn fiscal_quarters_with_february_start() {
        let p = Period::parse_quarter("FY27-Q3", 2).unwrap();
        assert_eq!((p.from, p.to), (d("2026-08-01"), d("2026-10-31")));
        let p = Period::parse_quarter("FY27-Q1", 2).unwrap();
        assert_eq!((p.from, p.to), (d("2026-02-01"), d("2026-04-30")));
        let p = Period::parse_quarter("fy2027q4", 2).unwrap();
        assert_eq!((p.from, p.to), (d("2026-11-01"), d("2027-01-31")));
    }

    #[test]
    fn fiscal_quarters_with_other_starts() {
        let p = Period::parse_quarter("FY27-Q1", 1).unwrap();
        assert_eq!((p.from, p.to), (d("2027-01-01"), d("2027-03-31")));
        let p = Period::parse_quarter("FY27-Q1", 10).unwrap();
        assert_eq!((p.from, p.to), (d("2026-10-01"), d("2026-12-31")));
        assert_eq!(
            Period::parse_quarter("FY27-Q1", 13),
            Err(PeriodError::BadFiscalStart(13))
        );
    }

    #[test]
    fn bad_quarters_are_rejected() {
        for bad in [
            "", "2026", "2026Q5", "2026Q0", "Q3", "26Q3", "FY-Q3", "FY27-Q", "2026Q33", "FY123-Q1",
            "abcdQ1", "2026Q3x",
        ] {
            assert!(
                matches!(
                    Period::parse_quarter(bad, 2),
                    Err(PeriodError::BadQuarter { .. })
                ),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn dates_are_inclusive_and_checked() {
        let p = Period::from_dates("2026-07-01", "2026-07-01").unwrap();
        assert_eq!(p.days(), 1);
        assert!(p.contains("2026-07-01T23:59:59Z".parse().unwrap()));
        assert!(!p.contains("2026-07-02T00:00:00Z".parse().unwrap()));
        assert!(!p.contains("2026-06-30T23:59:59Z".parse().unwrap()));
        assert!(matches!(
            Period::from_dates("2026-07-02", "2026-07-01"),
            Err(PeriodError::Reversed { .. })
        ));
        assert!(matches!(
            Period::from_dates("2026-02-30", "2026-03-01"),
            Err(PeriodError::BadDate { .. })
        ));
        assert!(matches!(
            Period::from_dates("07/01/2026", "2026-03-01"),
            Err(PeriodError::BadDate { .. })
        ));
    }
}
