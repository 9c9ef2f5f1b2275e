//! How strongly a person's evidence supports one competency: none, weak, moderate or strong,
//! from the scores of the items that evidence it. Several solid items make a strong case; one
//! weak signal does not.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    None,
    Weak,
    Moderate,
    Strong,
}

/// Total score at which evidence is strong, if its best item is also solid.
const STRONG_TOTAL: f64 = 2.5;
/// A single item scoring at least this is solid evidence on its own.
const SOLID_ITEM: f64 = 0.7;
/// Total score at which several smaller items add up to moderate evidence.
const MODERATE_TOTAL: f64 = 1.2;

impl Strength {
    /// From the scores (0–1) of the items evidencing a competency:
    /// strong — a total of at least 2.5 including a solid item (≥ 0.7);
    /// moderate — a total of at least 1.2, or one solid item;
    /// weak — anything less; none — no item.
    pub fn from_scores(scores: impl IntoIterator<Item = f64>) -> Strength {
        let (mut total, mut best, mut count) = (0.0_f64, 0.0_f64, 0usize);
        for score in scores {
            total += score;
            best = best.max(score);
            count += 1;
        }
        if count == 0 {
            Strength::None
        } else if total >= STRONG_TOTAL && best >= SOLID_ITEM {
            Strength::Strong
        } else if total >= MODERATE_TOTAL || best >= SOLID_ITEM {
            Strength::Moderate
        } else {
            Strength::Weak
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Strength::None => "none",
            Strength::Weak => "weak",
            Strength::Moderate => "moderate",
            Strength::Strong => "strong",
        }
    }
}

impl fmt::Display for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_grows_with_solid_evidence() {
        assert_eq!(Strength::from_scores([]), Strength::None);
        assert_eq!(Strength::from_scores([0.4]), Strength::Weak);
        assert_eq!(Strength::from_scores([0.4, 0.5]), Strength::Weak);
        assert_eq!(Strength::from_scores([0.85]), Strength::Moderate);
        assert_eq!(Strength::from_scores([0.4, 0.4, 0.5]), Strength::Moderate);
        assert_eq!(Strength::from_scores([0.85, 0.8, 0.9]), Strength::Strong);
        assert_eq!(
            Strength::from_scores([0.5; 6]),
            Strength::Moderate,
            "many weak signals without one solid item stay moderate"
        );
    }
}
