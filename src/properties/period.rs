//! `--quarter`, `--from` and `--to`: any text is accepted or rejected with a message, and what is
//! accepted is a period the rest of the program can do date arithmetic on.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::{cases, tricky_string};
use crate::fuzzing::{dates, quarter};
use crate::model::Period;

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

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn any_quarter_text_is_parsed_or_explained(text in quarter_text(), month in 0u32..=14) {
        quarter(&text, month);
    }

    #[test]
    fn any_dates_are_parsed_or_explained(from in date_text(), to in date_text()) {
        dates(&from, &to);
    }

    #[test]
    fn valid_dates_round_trip(a in 0i64..3_000_000, b in 0i64..400) {
        let from = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap() + chrono::Days::new(a as u64);
        let to = from + chrono::Days::new(b as u64);
        prop_assume!(to.year() <= 9999);
        let p = dates(&from.to_string(), &to.to_string()).unwrap();
        prop_assert_eq!((p.from, p.to), (from, to));
        prop_assert_eq!(p.days(), b + 1);
    }

    #[test]
    fn calendar_quarters_round_trip(year in 1000i32..=9999, q in 1u32..=4, month in 1u32..=12) {
        let text = format!("{year}Q{q}");
        let p = quarter(&text, month).unwrap();
        prop_assert_eq!(p.from, NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).unwrap());
        prop_assert_eq!(p.label(), text.clone());
        prop_assert_eq!(Period::parse_quarter(&p.label(), month), Ok(p));
        prop_assert_eq!(Period::parse_quarter(&text.to_lowercase(), month), Ok(p));
    }

    #[test]
    fn fiscal_quarters_are_three_months_from_the_fiscal_start(
        year in 1001i32..=9999,
        q in 1u32..=4,
        month in 1u32..=12,
        short in any::<bool>(),
    ) {
        // `FY27` is 2027: two digits name a year of this century.
        let year = if short { 2000 + year % 100 } else { year };
        let text = if short {
            format!("FY{:02}-Q{q}", year % 100)
        } else {
            format!("FY{year}-Q{q}")
        };
        let p = quarter(&text, month).unwrap();
        // FY N starts in year N-1 unless the fiscal year is the calendar year.
        let first_year = if month == 1 { year } else { year - 1 };
        let start_month0 = (month - 1) + 3 * (q - 1);
        let expected = NaiveDate::from_ymd_opt(
            first_year + (start_month0 / 12) as i32,
            start_month0 % 12 + 1,
            1,
        )
        .unwrap();
        prop_assert_eq!(p.from, expected);
        prop_assert_eq!(p.to, (expected + chrono::Months::new(3)).pred_opt().unwrap());
    }
}
