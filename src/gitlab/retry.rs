//! When to retry a request and how long to wait: exponential backoff with full jitter, and
//! GitLab's `Retry-After` / `RateLimit-Reset` honoured (pacing before a limit is reached is
//! [`super::budget`]'s).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub max_wait: Duration,
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (0-based): a random wait up to base × 2^attempt.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_wait);
        // Full jitter spreads retries of concurrent requests apart.
        let millis = ceiling.as_millis() as u64;
        let jittered = millis / 2 + fastrand::u64(0..=millis / 2);
        Duration::from_millis(jittered)
    }

    /// The wait GitLab asks for on a 429: `Retry-After` seconds, else until `RateLimit-Reset`,
    /// else the backoff; never longer than `max_wait`.
    pub fn rate_limited_wait(
        &self,
        headers: &HeaderMap,
        attempt: u32,
        now: SystemTime,
    ) -> Duration {
        let asked = retry_after(headers).or_else(|| until_reset(headers, now));
        match asked {
            Some(wait) => wait.min(self.max_wait),
            None => self.backoff(attempt),
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_u64(headers, "retry-after").map(Duration::from_secs)
}

fn until_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let reset = header_u64(headers, "ratelimit-reset")?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(100),
            max_wait: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = policy();
        for attempt in 0..20 {
            let ceiling = (100u64 << attempt.min(16)).min(10_000);
            let wait = p.backoff(attempt).as_millis() as u64;
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "attempt {attempt}: {wait}"
            );
        }
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let p = policy();
        let h = headers(&[("retry-after", "3"), ("ratelimit-reset", "1060")]);
        assert_eq!(p.rate_limited_wait(&h, 0, now), Duration::from_secs(3));
        let h = headers(&[("ratelimit-reset", "1007")]);
        assert_eq!(p.rate_limited_wait(&h, 0, now), Duration::from_secs(7));
        let h = headers(&[("retry-after", "3600")]);
        assert_eq!(p.rate_limited_wait(&h, 0, now), Duration::from_secs(10));
        let wait = p.rate_limited_wait(&HeaderMap::new(), 2, now);
        assert!(wait <= Duration::from_millis(400));
    }
}
