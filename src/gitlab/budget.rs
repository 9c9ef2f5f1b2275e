//! GitLab's rate limit, kept from our side: every answer says how many requests the window has
//! left (`RateLimit-Remaining`) and when it resets (`RateLimit-Reset`). The budget counts down as
//! requests go out, allowing for those still in flight that the server has not counted yet, and
//! holds requests back until the reset when nothing is left, so a harvest never runs into a 429
//! it could have foreseen. When little is left it spaces requests out over the rest of the
//! window rather than spending it all at once.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Requests kept in hand: other clients of the same token may be spending it too.
const MARGIN: i64 = 1;

/// Extra wait past a reset, for clocks and window edges that do not quite agree.
const SLACK: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// The window's limit, once GitLab has said it.
    limit: Option<i64>,
    /// Requests left in the window, by our count.
    remaining: i64,
    /// When the window resets.
    reset_at: Option<Instant>,
    /// Requests sent so far, numbered: an answer counts the ones sent before it.
    sent: u64,
    /// When the last request went out, for spacing them when the budget is low.
    last_sent: Option<Instant>,
    /// Requests sent and not answered yet: at a reset they may still land in the new window.
    in_flight: i64,
}

/// What a request waiting to go out should do.
#[derive(Debug, PartialEq)]
pub(crate) enum Turn {
    /// Go now; the number identifies the request to [`Budget::observe`].
    Go(u64),
    /// Ask again after this long.
    Wait(Duration),
}

impl Budget {
    /// Takes one request from the budget, or says how long to wait for one.
    pub(crate) fn take(&mut self, now: Instant) -> Turn {
        if let Some(limit) = self.limit {
            if self.reset_at.is_some_and(|reset| now >= reset) {
                // A new window: the server's figure arrives with the next answer. Requests
                // still on their way may be counted in it.
                self.remaining = limit - self.in_flight;
                self.reset_at = None;
            }
            if self.remaining <= MARGIN {
                // Past the reset by a little: the server's clock and window edge are not ours.
                return Turn::Wait(match self.reset_at {
                    Some(reset) => reset - now + SLACK,
                    None => SLACK,
                });
            }
            if let Some(gap) = self
                .reset_at
                .and_then(|reset| self.spacing(limit, reset, now))
            {
                return Turn::Wait(gap);
            }
        }
        self.remaining -= 1;
        self.sent += 1;
        self.in_flight += 1;
        self.last_sent = Some(now);
        Turn::Go(self.sent)
    }

    /// With under a tenth of the window's budget left, one request per equal share of the time
    /// left until the reset.
    fn spacing(&self, limit: i64, reset: Instant, now: Instant) -> Option<Duration> {
        if self.remaining * 10 > limit {
            return None;
        }
        let share = (reset - now) / u32::try_from(self.remaining.max(1)).unwrap_or(u32::MAX);
        let next = self.last_sent? + share;
        (next > now).then(|| next - now)
    }

    /// A request [`Budget::take`] let go has been answered, or has failed.
    pub(crate) fn settled(&mut self) {
        self.in_flight = (self.in_flight - 1).max(0);
    }

    /// Learns from the answer to request `number` (as [`Budget::take`] numbered it).
    pub(crate) fn observe(&mut self, number: u64, headers: &HeaderMap, now: Instant) {
        let (Some(limit), Some(left), Some(reset)) = (
            header_i64(headers, "ratelimit-limit"),
            header_i64(headers, "ratelimit-remaining"),
            reset_instant(headers, now),
        ) else {
            return;
        };
        // Requests sent after this one may not have reached the server's count yet.
        let later = i64::try_from(self.sent.saturating_sub(number)).unwrap_or(i64::MAX);
        let left = left.saturating_sub(later);
        let new_window = self
            .reset_at
            .is_none_or(|known| reset > known + Duration::from_millis(500));
        self.limit = Some(limit);
        if new_window {
            self.remaining = left;
            self.reset_at = Some(reset);
        } else {
            self.remaining = self.remaining.min(left);
        }
    }

    /// A 429 says the window is spent, whatever we counted: nothing more until `wait` is over.
    pub(crate) fn refused(&mut self, wait: Duration, now: Instant) {
        self.remaining = 0;
        self.reset_at = Some(now + wait);
        if self.limit.is_none() {
            // Without a stated limit, count the window as one request wide.
            self.limit = Some(MARGIN + 1);
        }
    }
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `RateLimit-Reset` (seconds since the epoch) as an instant of this process's clock.
fn reset_instant(headers: &HeaderMap, now: Instant) -> Option<Instant> {
    let reset = header_i64(headers, "ratelimit-reset")?;
    let epoch_now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let reset = Duration::from_secs(u64::try_from(reset).ok()?);
    Some(now + reset.saturating_sub(epoch_now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(limit: i64, remaining: i64, reset_in_secs: u64) -> HeaderMap {
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + reset_in_secs;
        let mut h = HeaderMap::new();
        h.insert("ratelimit-limit", limit.to_string().parse().unwrap());
        h.insert(
            "ratelimit-remaining",
            remaining.to_string().parse().unwrap(),
        );
        h.insert("ratelimit-reset", reset.to_string().parse().unwrap());
        h
    }

    fn go(turn: Turn) -> u64 {
        match turn {
            Turn::Go(n) => n,
            Turn::Wait(w) => panic!("asked to wait {w:?}"),
        }
    }

    #[test]
    fn unknown_limits_never_hold_anything_back() {
        let mut budget = Budget::default();
        let now = Instant::now();
        for n in 1..=100 {
            assert_eq!(budget.take(now), Turn::Go(n));
        }
    }

    #[test]
    fn requests_in_flight_count_against_what_the_server_says() {
        let mut budget = Budget::default();
        let now = Instant::now();
        let first = go(budget.take(now));
        // Four more go out before the first answer comes back.
        for _ in 0..4 {
            go(budget.take(now));
        }
        // The server counted only the first: 5 left by its count, 1 by ours.
        budget.observe(first, &answer(100, 5, 60), now);
        assert!(matches!(budget.take(now), Turn::Wait(_)));
    }

    #[test]
    fn requests_still_on_their_way_count_against_the_next_window() {
        let mut budget = Budget::default();
        let now = Instant::now();
        // Learn a limit of 10 from an answer, with the window over in a second.
        let first = go(budget.take(now));
        budget.settled();
        budget.observe(first, &answer(10, 9, 1), now);
        // Six go out and are still unanswered when the window resets.
        for _ in 0..6 {
            go(budget.take(now));
        }
        let after_reset = now + Duration::from_secs(2);
        let mut sent = 0;
        while let Turn::Go(_) = budget.take(after_reset) {
            sent += 1;
        }
        assert_eq!(sent, 10 - 6 - MARGIN, "the six may land in the new window");
    }

    #[test]
    fn an_empty_window_waits_for_its_reset_then_goes() {
        let mut budget = Budget::default();
        let now = Instant::now();
        let n = go(budget.take(now));
        budget.observe(n, &answer(10, 1, 30), now);
        match budget.take(now) {
            Turn::Wait(wait) => {
                assert!(wait > Duration::from_secs(28) && wait <= Duration::from_secs(31))
            }
            Turn::Go(_) => panic!("went with nothing left"),
        }
        assert!(matches!(
            budget.take(now + Duration::from_secs(31)),
            Turn::Go(_)
        ));
    }

    #[test]
    fn a_low_budget_is_spread_over_the_window() {
        let mut budget = Budget::default();
        let now = Instant::now();
        let n = go(budget.take(now));
        // 5 of 100 left, 10 s to go: about one request every 2 s.
        budget.observe(n, &answer(100, 5, 10), now);
        match budget.take(now) {
            Turn::Wait(wait) => assert!(wait > Duration::from_millis(1500), "{wait:?}"),
            Turn::Go(_) => panic!("a low budget was spent at once"),
        }
        assert!(matches!(
            budget.take(now + Duration::from_secs(3)),
            Turn::Go(_)
        ));
    }

    #[test]
    fn a_refusal_stops_everything_until_the_wait_is_over() {
        let mut budget = Budget::default();
        let now = Instant::now();
        budget.refused(Duration::from_secs(2), now);
        assert!(matches!(budget.take(now), Turn::Wait(_)));
        assert!(matches!(
            budget.take(now + Duration::from_secs(2)),
            Turn::Go(_)
        ));
    }
}
