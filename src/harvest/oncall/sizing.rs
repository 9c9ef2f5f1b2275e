//! How much one OncallShifts request may carry — windows, shifts per page, schedules and
//! rotations per page — within GitLab's query complexity limit, by GitLab's own arithmetic, so
//! that requests are sized before they are sent rather than halved after GitLab refuses them.
//!
//! GitLab scores a query from the document and its variables alone (`Types::BaseField`): a
//! field costs 1 plus what it selects; a field with arguments costs what it selects plus 1, and
//! a connection then adds that cost × its page (`first`, at most 100) × its resolver's
//! multiplier (1/100; 1/200 for on-call `shifts`), rounded down at each field. Schedules and
//! rotations asked at pages of 100 double everything under them: fourteen windows score 885
//! against a limit of 250, but 233 at pages of one schedule and two rotations. So the list pages
//! are what to size: as many as the project has, once an answer has shown that.
//!
//! The fake GitLab scores queries the same way (`tests/cli/fake_gitlab/complexity.rs`); the
//! tests below check that it and [`complexity`] agree on the real document.

use super::SLOTS;

/// `GitlabSchema::AUTHENTICATED_MAX_COMPLEXITY`: the most an authenticated user's query may
/// score.
pub(crate) const COMPLEXITY_LIMIT: u32 = 250;

/// GitLab's largest page. More schedules, or more rotations in a schedule, are not read (the
/// source says so).
pub(crate) const LIST_LIMIT: i64 = 100;

/// Smallest page of shifts a request is sized down to.
pub(crate) const MIN_PAGE_SIZE: i64 = 10;

/// Smallest list pages a probe asks with to carry all its windows. The probe cannot know how
/// many schedules and rotations a project has; if it asks for fewer than there are, its answer
/// is incomplete and its windows are asked again with pages of 100 (one request more, none
/// refused). Small pages let it carry more windows: all fourteen of a year at pages of 5 (248),
/// but only three at pages of 100 (225). A year is then one request for a project with up to
/// five schedules of up to five rotations each — on-call set-ups are a schedule or a few, each
/// with a rotation per region or tier — and three for a larger one, where probing at pages of
/// 100 would make every project's year two requests and every quarter two. Below pages of 4
/// most projects' lists would not fit, and a probe that must be asked again gains nothing.
const MIN_PROBE_PAGE: i64 = 4;

/// GitLab's score of an OncallShifts request (`queries/oncall_shifts.graphql`) asking for
/// `windows` windows of `shifts` shifts per page, in `schedules` schedules of `rotations`
/// rotations per page.
pub(crate) fn complexity(windows: usize, schedules: i64, rotations: i64, shifts: i64) -> u32 {
    let windows = u32::try_from(windows).unwrap_or(u32::MAX / 1024);
    // `...Shifts`: pageInfo { hasNextPage endCursor } (3), nodes { startsAt endsAt participant
    // { user { username } } } (6).
    let window = resolved(3 + 6, shifts, 200);
    // A rotation: id, name, and a `shifts` field per window.
    let rotation = 2 + windows * window;
    // A list: pageInfo (3) and nodes (1 + a node).
    let rotations = resolved(3 + 1 + rotation, rotations, 100);
    // A schedule: iid, name, rotations.
    let schedule = 2 + rotations;
    let schedules = resolved(3 + 1 + schedule, schedules, 100);
    // `project(fullPath:)` is no connection: fullPath, visibility, schedules, plus 1.
    2 + schedules + 1
}

/// A connection field: what it selects plus 1, plus that × `page` × 1/`divisor` (its
/// resolver's multiplier), rounded down as GitLab's `.to_i` does.
fn resolved(selects: u32, page: i64, divisor: u32) -> u32 {
    let cost = selects + 1;
    let page = page.clamp(0, LIST_LIMIT) as u32;
    cost + cost * page / divisor
}

/// Schedules per page, and rotations of each schedule per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListPages {
    pub schedules: i64,
    pub rotations: i64,
}

impl ListPages {
    pub const fn new(schedules: i64, rotations: i64) -> ListPages {
        ListPages {
            schedules,
            rotations,
        }
    }

    /// GitLab's largest pages: what a project's lists need when their length is not known.
    pub const LARGEST: ListPages = ListPages::new(LIST_LIMIT, LIST_LIMIT);
}

/// How one request asks: windows, shifts per page, and list pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub slots: usize,
    pub first: i64,
    pub lists: ListPages,
}

impl Shape {
    /// GitLab's score of this request.
    pub fn complexity(&self) -> u32 {
        complexity(
            self.slots,
            self.lists.schedules,
            self.lists.rotations,
            self.first,
        )
    }

    /// Half the windows (down to one), then half the page of shifts (down to
    /// [`MIN_PAGE_SIZE`]): the fallback when GitLab's refusal says nothing to size by.
    pub fn smaller(self) -> Option<Shape> {
        if self.slots > 1 {
            Some(Shape {
                slots: self.slots / 2,
                ..self
            })
        } else if self.first > MIN_PAGE_SIZE {
            Some(Shape {
                first: (self.first / 2).max(MIN_PAGE_SIZE),
                ..self
            })
        } else {
            None
        }
    }
}

/// What sizes one project's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The score a request may reach: GitLab's limit, or less once GitLab refused one.
    pub budget: u32,
    /// Shifts per page, as configured.
    pub page_size: i64,
    /// Pages that hold every schedule and rotation of the project; `None` until an answer has
    /// shown them.
    pub lists: Option<ListPages>,
}

impl Plan {
    pub fn new(page_size: i64) -> Plan {
        Plan {
            budget: COMPLEXITY_LIMIT,
            page_size,
            lists: None,
        }
    }

    /// The request for the first of `windows` windows: as many as fit in the budget (at most
    /// [`SLOTS`]), at pages that hold the project's lists once they are known; before that, the
    /// probe's shape.
    pub fn shape(&self, windows: usize) -> Shape {
        let wanted = windows.clamp(1, SLOTS);
        match self.lists {
            Some(lists) => self.fit(wanted, lists),
            None => self.probe(wanted),
        }
    }

    /// The first request for a project: every window at the largest list pages that let it
    /// carry them all, down to [`MIN_PROBE_PAGE`]; otherwise pages of 100, which any project's
    /// lists fit, with as many windows as fit then.
    fn probe(&self, wanted: usize) -> Shape {
        (MIN_PROBE_PAGE..=LIST_LIMIT)
            .rev()
            .map(|page| Shape {
                slots: wanted,
                first: self.page_size,
                lists: ListPages::new(page, page),
            })
            .find(|shape| shape.complexity() <= self.budget)
            .unwrap_or_else(|| self.fit(wanted, ListPages::LARGEST))
    }

    /// The most windows (up to `wanted`) that fit at `lists`; one window with a smaller page of
    /// shifts when one does not fit; the smallest request when nothing fits (GitLab decides).
    fn fit(&self, wanted: usize, lists: ListPages) -> Shape {
        let smallest_page = MIN_PAGE_SIZE.min(self.page_size);
        let at = |slots, first| Shape {
            slots,
            first,
            lists,
        };
        (1..=wanted)
            .rev()
            .map(|slots| at(slots, self.page_size))
            .chain(
                (smallest_page..self.page_size)
                    .rev()
                    .map(|first| at(1, first)),
            )
            .find(|shape| shape.complexity() <= self.budget)
            .unwrap_or(at(1, smallest_page))
    }

    /// GitLab refused `refused` (for the first of `windows` windows) as too complex, saying
    /// `message`. GitLab's message gives its score and its limit: the budget becomes that limit
    /// scaled by how far the model was off (its limit itself when the model is right), and the
    /// request is sized to it. Without those numbers, or when that cannot shrink the request,
    /// it is halved. `None` when nothing GitLab would score lower is left to try.
    pub fn after_refusal(
        &mut self,
        refused: Shape,
        windows: usize,
        message: &str,
    ) -> Option<Shape> {
        let estimate = refused.complexity();
        if let Some((score, limit)) = refused_score(message) {
            let scaled = u64::from(limit) * u64::from(estimate) / u64::from(score);
            let budget = u32::try_from(scaled).unwrap_or(u32::MAX);
            if budget < estimate {
                let sized = Plan {
                    budget: self.budget.min(budget),
                    ..*self
                };
                let next = sized.shape(windows);
                if next.complexity() < estimate {
                    *self = sized;
                    return Some(next);
                }
            }
        }
        // A smaller page that GitLab would score the same is no use.
        let mut smaller = refused.smaller()?;
        while smaller.complexity() >= estimate {
            smaller = smaller.smaller()?;
        }
        self.budget = self.budget.min(smaller.complexity());
        Some(smaller)
    }
}

/// The score and the limit in GitLab's refusal, "Query has complexity of 885, which exceeds max
/// complexity of 250"; `None` for any other message.
pub(crate) fn refused_score(message: &str) -> Option<(u32, u32)> {
    let number_after = |marker: &str| -> Option<u32> {
        let rest = &message[message.find(marker)? + marker.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let score = number_after("has complexity of ")?;
    let limit = number_after("max complexity of ")?;
    (score > limit).then_some((score, limit))
}

// The fake GitLab's scorer, to check the model against on the real document.
#[cfg(test)]
#[path = "../../../tests/cli/fake_gitlab/complexity.rs"]
mod fake_scorer;

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::super::{variables, Window};
    use super::*;

    const YEAR: usize = 14;
    const QUARTER: usize = 4;

    #[test]
    fn the_model_scores_as_gitlab_documents_it() {
        // Lists at pages of 100 double what they hold; shifts at pages of 100 cost 10 × 1.5.
        for windows in 1..=YEAR {
            let expected = 45 + 60 * windows as u32;
            assert_eq!(complexity(windows, 100, 100, 100), expected, "{windows}");
        }
        assert_eq!(complexity(1, 100, 100, 50), 93, "12.5 rounds down to 12");
        assert_eq!(complexity(YEAR, 1, 2, 100), 233);
        assert_eq!(complexity(YEAR, 5, 5, 100), 248);
        assert_eq!(complexity(YEAR, 6, 6, 100), 254);
        // GitLab reads at most 100 to a page, whatever is asked.
        assert_eq!(complexity(3, 500, 100, 100), complexity(3, 100, 100, 100));
        assert_eq!(COMPLEXITY_LIMIT, fake_scorer::GITLAB_COMPLEXITY_LIMIT);
    }

    fn windows(n: usize) -> Vec<Window> {
        let start: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
        (0..n)
            .map(|k| Window {
                start: start + Duration::days(28 * k as i64),
                end: start + Duration::days(28 * (k as i64 + 1)),
            })
            .collect()
    }

    /// The fake GitLab's scores of the OncallShifts requests the harvest would send.
    struct FakeScorer {
        document: graphql_parser::query::Document<'static, String>,
    }

    impl FakeScorer {
        fn new() -> FakeScorer {
            let text = include_str!("../../../queries/oncall_shifts.graphql");
            FakeScorer {
                document: graphql_parser::parse_query(text).unwrap(),
            }
        }

        fn score(&self, shape: Shape) -> u32 {
            let vars = variables("g/p", &windows(shape.slots), shape);
            let vars = serde_json::to_value(vars).unwrap();
            fake_scorer::document_score(&self.document, Some("OncallShifts"), &vars).unwrap()
        }
    }

    #[test]
    fn the_model_agrees_with_the_fake_gitlab_on_the_real_document() {
        let fake = FakeScorer::new();
        let pages = [1, 2, 3, 4, 5, 7, 10, 33, 50, 85, 99, 100];
        let shifts = [1, 5, 10, 12, 25, 50, 59, 99, 100];
        // Both the text and the parsed document score alike.
        let shape = Shape {
            slots: 3,
            first: 100,
            lists: ListPages::LARGEST,
        };
        let vars = serde_json::to_value(variables("g/p", &windows(3), shape)).unwrap();
        let text = include_str!("../../../queries/oncall_shifts.graphql");
        let whole = fake_scorer::complexity_score(text, Some("OncallShifts"), &vars);
        assert_eq!(whole, Ok(fake.score(shape)));
        for slots in 1..=SLOTS {
            for schedules in pages {
                for rotations in pages {
                    for first in shifts {
                        let shape = Shape {
                            slots,
                            first,
                            lists: ListPages {
                                schedules,
                                rotations,
                            },
                        };
                        assert_eq!(fake.score(shape), shape.complexity(), "{shape:?}");
                    }
                }
            }
        }
    }

    /// Every shape a plan may send for some number of windows and page of shifts, for lists of
    /// `lengths` (each for schedules and rotations), and for the probe.
    fn shapes_sent(budget: u32, lengths: &[i64]) -> Vec<Shape> {
        let mut shapes = Vec::new();
        let lists = lengths
            .iter()
            .flat_map(|&s| lengths.iter().map(move |&r| Some(ListPages::new(s, r))))
            .chain([None]);
        let lists: Vec<Option<ListPages>> = lists.collect();
        for page_size in [1, 2, 5, 10, 20, 50, 99, 100] {
            for known in &lists {
                for windows in 1..=SLOTS + 1 {
                    let plan = Plan {
                        budget,
                        page_size,
                        lists: *known,
                    };
                    shapes.push(plan.shape(windows));
                }
            }
        }
        shapes.sort_by_key(|s| (s.slots, s.first, s.lists.schedules, s.lists.rotations));
        shapes.dedup();
        shapes
    }

    #[test]
    fn every_request_a_plan_sends_fits_gitlabs_limit() {
        let every: Vec<i64> = (1..=LIST_LIMIT).collect();
        for shape in shapes_sent(COMPLEXITY_LIMIT, &every) {
            assert!((1..=SLOTS).contains(&shape.slots), "{shape:?}");
            assert!(shape.complexity() <= COMPLEXITY_LIMIT, "{shape:?}");
        }
    }

    #[test]
    fn requests_a_plan_sends_fit_by_the_fake_gitlabs_score_too() {
        let fake = FakeScorer::new();
        let shapes = shapes_sent(COMPLEXITY_LIMIT, &[1, 2, 3, 5, 6, 7, 10, 33, 99, 100]);
        assert!(shapes.len() > 1000, "{}", shapes.len());
        for shape in shapes {
            assert!((1..=SLOTS).contains(&shape.slots), "{shape:?}");
            let score = fake.score(shape);
            assert!(score <= COMPLEXITY_LIMIT, "{shape:?} scores {score}");
            assert_eq!(score, shape.complexity(), "{shape:?}");
        }
    }

    #[test]
    fn a_probe_carries_a_year_or_a_quarter_at_the_largest_pages_that_allow_it() {
        let plan = Plan::new(100);
        let year = plan.shape(YEAR);
        assert_eq!(
            (year.slots, year.lists),
            (YEAR, ListPages::new(5, 5)),
            "{year:?}"
        );
        assert_eq!(year.complexity(), 248);
        let quarter = plan.shape(QUARTER);
        assert_eq!(
            (quarter.slots, quarter.lists),
            (QUARTER, ListPages::new(87, 87))
        );
        assert!(quarter.complexity() <= COMPLEXITY_LIMIT);
        let month = plan.shape(1);
        assert_eq!((month.slots, month.lists), (1, ListPages::LARGEST));
        // Two years: the first fourteen windows.
        assert_eq!(plan.shape(27).slots, YEAR);
        // Smaller pages of shifts leave room for larger list pages.
        let small = Plan::new(5).shape(YEAR);
        assert_eq!((small.first, small.lists), (5, ListPages::new(27, 27)));
    }

    #[test]
    fn a_probe_that_cannot_carry_every_window_asks_pages_of_a_hundred() {
        let plan = Plan {
            budget: 200,
            ..Plan::new(100)
        };
        let probe = plan.shape(YEAR);
        assert_eq!(probe.lists, ListPages::LARGEST, "{probe:?}");
        assert_eq!(
            probe.slots, 2,
            "45 + 60 a window: 165 for two, 225 for three"
        );
        // A limit under one window at pages of 100 (105): a smaller page of shifts.
        let low = Plan {
            budget: 100,
            ..Plan::new(100)
        };
        let probe = low.shape(YEAR);
        assert_eq!((probe.slots, probe.first), (1, 79), "{probe:?}");
        assert_eq!(probe.complexity(), 97, "a window of 79 shifts costs 13");
    }

    #[test]
    fn known_lists_let_the_rest_of_a_year_go_in_one_request() {
        let known = |schedules, rotations| Plan {
            lists: Some(ListPages::new(schedules, rotations)),
            ..Plan::new(100)
        };
        assert_eq!(known(1, 2).shape(YEAR).slots, YEAR);
        assert_eq!(known(5, 5).shape(YEAR).slots, YEAR);
        assert_eq!(known(6, 1).shape(YEAR).slots, YEAR);
        assert_eq!(known(1, 100).shape(YEAR).slots, 7);
        assert_eq!(known(7, 7).shape(YEAR).slots, 13);
        assert_eq!(known(10, 10).shape(YEAR).slots, 12);
        assert_eq!(known(100, 100).shape(YEAR).slots, 3);
        assert_eq!(known(100, 100).shape(2).slots, 2);
        // Nothing fits: the smallest request, and GitLab decides.
        let tiny = Plan {
            budget: 10,
            ..known(1, 1)
        };
        let shape = tiny.shape(YEAR);
        assert_eq!((shape.slots, shape.first), (1, MIN_PAGE_SIZE));
        let tinier = Plan {
            page_size: 3,
            ..tiny
        };
        assert_eq!(
            tinier.shape(YEAR).first,
            3,
            "a smaller configured page is kept"
        );
    }

    #[test]
    fn gitlabs_refusal_sizes_the_next_request_directly() {
        assert_eq!(
            refused_score("Query has complexity of 885, which exceeds max complexity of 250"),
            Some((885, 250))
        );
        assert_eq!(refused_score("Query has complexity of 2"), None);
        assert_eq!(refused_score("complexity exceeded"), None);
        assert_eq!(
            refused_score("Query has complexity of 100, which exceeds max complexity of 250"),
            None,
            "not a refusal"
        );

        // A GitLab with a limit of 100: the probe is re-sized to it at once.
        let mut plan = Plan::new(100);
        let probe = plan.shape(YEAR);
        let message = format!(
            "Query has complexity of {}, which exceeds max complexity of 100",
            probe.complexity()
        );
        let next = plan.after_refusal(probe, YEAR, &message).unwrap();
        assert_eq!(plan.budget, 100);
        assert_eq!(
            next,
            Plan {
                budget: 100,
                ..Plan::new(100)
            }
            .shape(YEAR)
        );
        assert!(next.complexity() <= 100);

        // A model that is off (GitLab scores 20% higher): the budget shrinks by as much.
        let mut plan = Plan {
            lists: Some(ListPages::new(1, 2)),
            ..Plan::new(100)
        };
        let refused = plan.shape(YEAR);
        let score = refused.complexity() * 6 / 5;
        let message =
            format!("Query has complexity of {score}, which exceeds max complexity of 250");
        let next = plan.after_refusal(refused, YEAR, &message).unwrap();
        assert_eq!(plan.budget, 250 * refused.complexity() / score);
        assert!(next.complexity() * 6 / 5 <= 250, "{next:?}");
        assert!(next.slots < refused.slots);
    }

    #[test]
    fn without_gitlabs_numbers_the_request_is_halved() {
        let mut plan = Plan {
            lists: Some(ListPages::new(1, 2)),
            ..Plan::new(100)
        };
        let mut shape = plan.shape(YEAR);
        let mut tried = vec![(shape.slots, shape.first)];
        while let Some(next) = plan.after_refusal(shape, SLOTS, "Query too complex") {
            assert_eq!(
                plan.budget,
                next.complexity(),
                "later requests stay as small"
            );
            shape = next;
            tried.push((shape.slots, shape.first));
        }
        assert_eq!(
            tried,
            vec![
                (14, 100),
                (7, 100),
                (3, 100),
                (1, 100),
                (1, 50),
                (1, 25),
                (1, 12)
            ],
            "a page of 10 shifts scores as 12 does"
        );
        // A page already smaller than the floor is left alone.
        let small = Shape {
            slots: 2,
            first: 4,
            lists: ListPages::LARGEST,
        };
        assert_eq!(small.smaller(), Some(Shape { slots: 1, ..small }));
        assert_eq!(Shape { slots: 1, ..small }.smaller(), None);
    }

    #[test]
    fn a_refusal_nothing_can_shrink_gives_up() {
        // GitLab refuses even the smallest request: the numbers size nothing smaller, and
        // halving has nothing left.
        let mut plan = Plan {
            lists: Some(ListPages::new(1, 1)),
            ..Plan::new(100)
        };
        let smallest = Shape {
            slots: 1,
            first: MIN_PAGE_SIZE,
            lists: ListPages::new(1, 1),
        };
        let message = "Query has complexity of 30, which exceeds max complexity of 5";
        assert_eq!(plan.after_refusal(smallest, YEAR, message), None);
    }
}
