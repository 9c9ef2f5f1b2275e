//! `--quarter`, `--from` and `--to`: any text is accepted or rejected with a message, and what is
//! accepted is a period the rest of the program can do date arithmetic on.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::{cases, tricky_string};
use crate::model::{Period, PeriodError};

/// Quarter-like text: mostly near misses of `2026Q3` and `FY27-Q3`.
fn quarter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(FY|fy|Fy)?[+-]?[0-9]{0,7}-{0,2}[Qq]?[0-9]{0,3}[a-z]?",
        " ?(FY)?[0-9]{2,4}-?Q[0-9] ?",
        tricky_string(12),
    ]
}

/// Date-like text: near misses of `2026-07-01`, signed and long years included.
fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3}",
        " ?[0-9]{4}-[0-9]{2}-[0-9]{2} ?",
        "[0-9/.-]{0,12}",
        tricky_string(12),
    ]
}

/// What the harvest does with a period (see `harvest/events.rs` and `harvest/oncall.rs`):
/// every accepted period must survive it.
fn use_period(p: &Period) {
    assert!(p.from <= p.to, "{p:?} is reversed");
    assert!(p.start() < p.end_exclusive(), "{p:?}");
    assert!(p.days() >= 1);
    assert!(p.contains(p.start()));
    assert!(!p.label().is_empty());
    // The events API is asked for the day before and the day after.
    assert!(
        p.from.pred_opt().is_some() && p.to.succ_opt().is_some(),
        "{p:?}"
    );
    let _ = p.start() - chrono::Duration::days(366);
    let _ = p.end_exclusive() + chrono::Duration::days(366);
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn any_quarter_text_is_parsed_or_explained(text in quarter_text(), month in 0u32..=14) {
        match Period::parse_quarter(&text, month) {
            Ok(p) => use_period(&p),
            Err(PeriodError::BadQuarter { value }) => prop_assert_eq!(value, text),
            Err(PeriodError::BadFiscalStart(m)) => prop_assert!(!(1..=12).contains(&m)),
            Err(other) => prop_assert!(false, "unexpected error for {:?}: {}", text, other),
        }
    }

    #[test]
    fn any_dates_are_parsed_or_explained(from in date_text(), to in date_text()) {
        match Period::from_dates(&from, &to) {
            Ok(p) => {
                use_period(&p);
                // What is accepted reads back the same from its own printed form.
                prop_assert_eq!(Period::from_dates(&p.from.to_string(), &p.to.to_string()), Ok(p));
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.contains("YYYY-MM-DD") || message.contains("swap --from and --to"), "{}", message);
            }
        }
    }

    #[test]
    fn valid_dates_round_trip(a in 0i64..3_000_000, b in 0i64..400) {
        let from = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap() + chrono::Days::new(a as u64);
        let to = from + chrono::Days::new(b as u64);
        prop_assume!(to.year() <= 9999);
        let p = Period::from_dates(&from.to_string(), &to.to_string()).unwrap();
        prop_assert_eq!((p.from, p.to), (from, to));
        prop_assert_eq!(p.days(), b + 1);
        use_period(&p);
    }

    #[test]
    fn calendar_quarters_round_trip(year in 1000i32..=9999, quarter in 1u32..=4, month in 1u32..=12) {
        let text = format!("{year}Q{quarter}");
        let p = Period::parse_quarter(&text, month).unwrap();
        prop_assert_eq!(p.from, NaiveDate::from_ymd_opt(year, 3 * quarter - 2, 1).unwrap());
        prop_assert_eq!(p.label(), text.clone());
        prop_assert_eq!(Period::parse_quarter(&p.label(), month), Ok(p));
        prop_assert_eq!(Period::parse_quarter(&text.to_lowercase(), month), Ok(p));
        use_period(&p);
    }

    #[test]
    fn fiscal_quarters_are_three_months_from_the_fiscal_start(
        year in 1001i32..=9999,
        quarter in 1u32..=4,
        month in 1u32..=12,
        short in any::<bool>(),
    ) {
        prop_assume!(!short || (2000..=2099).contains(&year));
        let text = if short {
            format!("FY{:02}-Q{quarter}", year % 100)
        } else {
            format!("FY{year}-Q{quarter}")
        };
        let p = Period::parse_quarter(&text, month).unwrap();
        // FY N starts in year N-1 unless the fiscal year is the calendar year.
        let first_year = if month == 1 { year } else { year - 1 };
        let start_month0 = (month - 1) + 3 * (quarter - 1);
        let expected = NaiveDate::from_ymd_opt(
            first_year + (start_month0 / 12) as i32,
            start_month0 % 12 + 1,
            1,
        )
        .unwrap();
        prop_assert_eq!(p.from, expected);
        prop_assert_eq!(p.to, (expected + chrono::Months::new(3)).pred_opt().unwrap());
        use_period(&p);
    }
}
