//! The one HTTP client for GitLab: authentication, REST paging, GraphQL, retries, rate limits and
//! bounded concurrency. It knows nothing of evidence items; `harvest` turns its answers into items.

mod budget;
mod error;
pub mod graphql;
mod issues;
mod permits;
mod rest;
pub mod retry;
pub mod types;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use url::Url;

use crate::config::Secret;

pub use error::GitlabError;
pub use issues::{IssueChange, NewIssue};
pub use permits::Priority;
pub use rest::Paged;
pub use retry::RetryPolicy;

pub const USER_AGENT: &str = concat!("gl-evidence/", env!("CARGO_PKG_VERSION"));

/// Counts the HTTP requests one source makes (retries included), for the snapshot's `sources`.
#[derive(Debug, Default)]
pub struct RequestCounter(AtomicU64);

impl RequestCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub base_url: Url,
    pub concurrency: usize,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Certificate authorities trusted besides the system's (`--ca-cert`); never fewer checks.
    pub ca_certificates: Vec<reqwest::Certificate>,
}

/// Cheap to clone; all clones share the connection pool, the concurrency limit and pacing.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    api_v4: Url,
    graphql: Url,
    token: Secret,
    /// Requests in flight at once, chains served before bulk pages.
    permits: permits::Permits,
    retry: RetryPolicy,
    timeout: Duration,
    /// What is left of GitLab's rate limit, shared by every request.
    budget: std::sync::Mutex<budget::Budget>,
}

enum Auth {
    PrivateToken,
    Bearer,
}

impl Client {
    pub fn new(options: ClientOptions, token: Secret) -> Result<Client, GitlabError> {
        let mut base = options.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let join = |p: &str| {
            base.join(p).map_err(|e| GitlabError::Connect {
                url: base.to_string(),
                detail: e.to_string(),
            })
        };
        let api_v4 = join("api/v4/")?;
        let graphql = join("api/graphql")?;
        let mut builder = reqwest::Client::builder();
        for certificate in options.ca_certificates {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .user_agent(USER_AGENT)
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(options.concurrency)
            .build()
            .map_err(|e| GitlabError::Connect {
                url: base.to_string(),
                detail: e.to_string(),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: base,
                api_v4,
                graphql,
                token,
                permits: permits::Permits::new(options.concurrency),
                retry: options.retry,
                timeout: options.timeout,
                budget: std::sync::Mutex::new(budget::Budget::default()),
            }),
        })
    }

    /// The instance's web root, with a trailing slash.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    fn rest_url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self
            .inner
            .api_v4
            .join(path.trim_start_matches('/'))
            .expect("REST paths are relative and valid");
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    fn authorize(&self, request: RequestBuilder, auth: Auth) -> RequestBuilder {
        let (name, value) = match auth {
            Auth::PrivateToken => ("PRIVATE-TOKEN", self.inner.token.expose().to_string()),
            Auth::Bearer => (
                "Authorization",
                format!("Bearer {}", self.inner.token.expose()),
            ),
        };
        match HeaderValue::from_str(&value) {
            Ok(mut value) => {
                // Keeps the token out of any Debug output of the request.
                value.set_sensitive(true);
                request.header(name, value)
            }
            // An unusable token (control characters): send none and let GitLab answer 401.
            Err(_) => request,
        }
    }

    /// Sends a request built by `build`, retrying 429, 5xx, timeouts, connection errors and
    /// unreadable bodies; `decode` turns a 2xx body into the result.
    async fn send<T>(
        &self,
        build: impl Fn() -> RequestBuilder,
        url: &str,
        counter: &RequestCounter,
        decode: impl Fn(&[u8]) -> Result<T, GitlabError>,
    ) -> Result<(T, HeaderMap), GitlabError> {
        self.send_with(build, url, counter, decode, is_retryable, Priority::Urgent)
            .await
    }

    /// [`Client::send`], retrying only the failures `may_retry` accepts: a request that is not
    /// idempotent (creating an issue) must not be sent again after GitLab may have acted on it.
    async fn send_with<T>(
        &self,
        build: impl Fn() -> RequestBuilder,
        url: &str,
        counter: &RequestCounter,
        decode: impl Fn(&[u8]) -> Result<T, GitlabError>,
        may_retry: fn(&GitlabError) -> bool,
        priority: Priority,
    ) -> Result<(T, HeaderMap), GitlabError> {
        let policy = &self.inner.retry;
        let mut attempt = 0u32;
        loop {
            let (outcome, number) = {
                let _permit = self.inner.permits.acquire(priority).await;
                let number = self.take_budget().await;
                counter.bump();
                let started = Instant::now();
                let result = {
                    // Settled when answered, failed or abandoned.
                    let _in_flight = InFlight(self);
                    build().send().await
                };
                let response = match result {
                    Ok(response) => {
                        let status = response.status();
                        let headers = response.headers().clone();
                        let body = response.bytes().await;
                        tracing::debug!(
                            "{} {} → {} in {} ms",
                            "request",
                            url,
                            status.as_u16(),
                            started.elapsed().as_millis()
                        );
                        Ok((status, headers, body))
                    }
                    Err(e) => {
                        tracing::debug!("request {url} failed: {e}");
                        Err(e)
                    }
                };
                (response, number)
            };
            let (retryable, wait) = match outcome {
                Ok((status, headers, body)) => {
                    self.budget().observe(number, &headers, Instant::now());
                    let error = match body {
                        Ok(body) if status.is_success() => match decode(&body) {
                            Ok(value) => return Ok((value, headers)),
                            Err(e) => e,
                        },
                        Ok(body) => status_error(status, url, &body),
                        Err(e) => GitlabError::InvalidBody {
                            url: url.to_string(),
                            detail: format!("the answer was cut off: {e}"),
                        },
                    };
                    let wait = if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = policy.rate_limited_wait(&headers, attempt, SystemTime::now());
                        // Everything else waits too, rather than be refused in turn.
                        self.budget().refused(wait, Instant::now());
                        wait
                    } else {
                        policy.backoff(attempt)
                    };
                    (error, wait)
                }
                Err(e) => (self.transport_error(url, &e), policy.backoff(attempt)),
            };
            if !may_retry(&retryable) || attempt >= policy.max_retries {
                if attempt == 0 || !may_retry(&retryable) {
                    return Err(retryable);
                }
                return Err(GitlabError::RetriesExhausted {
                    url: url.to_string(),
                    attempts: attempt + 1,
                    last: Box::new(retryable),
                });
            }
            tracing::info!("retrying {url} in {} ms ({retryable})", wait.as_millis());
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> GitlabError {
        if let Some(problem) = crate::ca_cert::certificate_problem(e) {
            return GitlabError::Certificate {
                url: url.to_string(),
                problem,
            };
        }
        if e.is_timeout() {
            GitlabError::Timeout {
                url: url.to_string(),
                secs: self.inner.timeout.as_secs(),
            }
        } else {
            GitlabError::Connect {
                url: url.to_string(),
                detail: error_chain(e),
            }
        }
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, budget::Budget> {
        // A poisoned lock only means a panic elsewhere: the counts are still usable.
        self.inner.budget.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until GitLab's rate limit allows another request; its number for `observe`.
    async fn take_budget(&self) -> u64 {
        loop {
            let turn = self.budget().take(Instant::now());
            match turn {
                budget::Turn::Go(number) => return number,
                budget::Turn::Wait(wait) => {
                    tracing::debug!(
                        "rate limit: holding the next request back {} ms",
                        wait.as_millis()
                    );
                    tokio::time::sleep(wait.min(self.inner.retry.max_wait)).await;
                }
            }
        }
    }
}

/// A request the rate-limit budget counts as on its way until this is dropped.
struct InFlight<'a>(&'a Client);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.budget().settled();
    }
}

/// A body that is not what we asked for: cut off or garbled (worth another try), or whole JSON of
/// the wrong shape (retrying cannot help). An HTML page is usually a sign-in page or proxy in
/// front of GitLab, and the error says so.
pub(crate) fn decode_error(url: &str, e: &serde_json::Error, body: &[u8]) -> GitlabError {
    if e.is_data() {
        return GitlabError::UnexpectedShape {
            url: url.to_string(),
            detail: e.to_string(),
        };
    }
    let html = body.trim_ascii_start().starts_with(b"<");
    let detail = if html {
        "an HTML page came back instead of JSON: a sign-in page or proxy may stand in front of GitLab's API (check --gitlab-url, and that the API is reachable without a browser login)".to_string()
    } else {
        e.to_string()
    };
    GitlabError::InvalidBody {
        url: url.to_string(),
        detail,
    }
}

/// Rate limiting (429) is the one failure where GitLab surely did nothing: safe to retry even a
/// request that creates something.
fn is_rate_limited(error: &GitlabError) -> bool {
    matches!(error, GitlabError::Status { status: 429, .. })
}

fn is_retryable(error: &GitlabError) -> bool {
    match error {
        GitlabError::Status { status, .. } => *status == 429 || *status >= 500,
        GitlabError::Timeout { .. } | GitlabError::InvalidBody { .. } => true,
        GitlabError::Connect { .. } => true,
        _ => false,
    }
}

/// Maps a non-2xx answer to an error carrying GitLab's own message (trimmed: it is untrusted).
fn status_error(status: StatusCode, url: &str, body: &[u8]) -> GitlabError {
    let message = gitlab_message(body);
    match status {
        StatusCode::UNAUTHORIZED => GitlabError::Unauthorized {
            url: url.to_string(),
        },
        StatusCode::FORBIDDEN => GitlabError::Forbidden {
            url: url.to_string(),
            message,
        },
        StatusCode::NOT_FOUND => GitlabError::NotFound {
            url: url.to_string(),
        },
        _ => GitlabError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            message,
        },
    }
}

/// GitLab's `{"message": …}` / `{"error": …}` / GraphQL `errors`, else the start of the body.
fn gitlab_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => v
            .get("message")
            .or_else(|| v.get("error"))
            .map(|m| match m {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .or_else(|| {
                v.get("errors")
                    .and_then(|e| e.get(0))
                    .and_then(|e| e.get("message"))
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| v.to_string()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    sanitize_message(&text)
}

/// Untrusted server text for a terminal: no control characters, bounded length.
pub(crate) fn sanitize_message(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            // Control and bidirectional characters could disguise what a terminal shows.
            if c.is_control() || crate::report::is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return "(no message)".to_string();
    }
    match cleaned.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &cleaned[..cut]),
        None => cleaned.to_string(),
    }
}

/// The causes under a reqwest error (its own message repeats the URL we already show).
fn error_chain(e: &dyn std::error::Error) -> String {
    let Some(first) = e.source() else {
        return e.to_string();
    };
    let mut text = first.to_string();
    let mut source = first.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_extracted_and_sanitised() {
        assert_eq!(
            gitlab_message(br#"{"message":"401 Unauthorized"}"#),
            "401 Unauthorized"
        );
        assert_eq!(
            gitlab_message(br#"{"error":"insufficient_scope"}"#),
            "insufficient_scope"
        );
        assert_eq!(
            gitlab_message(br#"{"errors":[{"message":"Invalid token"}]}"#),
            "Invalid token"
        );
        assert_eq!(gitlab_message(b"Retry later\n"), "Retry later");
        assert_eq!(sanitize_message("a\x1b[31mb\u{7}"), "a [31mb");
        assert_eq!(sanitize_message(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn cut_off_bodies_are_retried_but_wrong_shapes_are_not() {
        #[derive(Debug, serde::Deserialize)]
        struct Wanted {
            #[allow(dead_code)]
            id: u64,
        }
        let cut = serde_json::from_slice::<Wanted>(br#"{"id": 1"#).unwrap_err();
        assert!(is_retryable(&decode_error("u", &cut, b"")));
        let shape = serde_json::from_slice::<Wanted>(br#"{"name": "x"}"#).unwrap_err();
        let error = decode_error("u", &shape, b"");
        assert!(matches!(error, GitlabError::UnexpectedShape { .. }));
        assert!(!is_retryable(&error));
    }

    #[test]
    fn an_html_page_is_named_as_such_and_messages_lose_bidi_controls() {
        let page = b"\n  <!DOCTYPE html><html><title>Sign in</title>";
        let e = serde_json::from_slice::<serde_json::Value>(page).unwrap_err();
        let text = decode_error("u", &e, page).to_string();
        assert!(text.contains("sign-in page or proxy"), "{text}");
        assert_eq!(sanitize_message("a\u{202e}b\u{200f}c"), "a b c");
    }

    #[test]
    fn urls_keep_an_instance_path_prefix() {
        let client = Client::new(
            ClientOptions {
                base_url: Url::parse("https://example.com/gitlab").unwrap(),
                concurrency: 2,
                timeout: Duration::from_secs(1),
                retry: RetryPolicy {
                    max_retries: 0,
                    base: Duration::from_millis(1),
                    max_wait: Duration::from_millis(1),
                },
                ca_certificates: Vec::new(),
            },
            Secret::new("t".into()),
        )
        .unwrap();
        assert_eq!(
            client
                .rest_url("users", &[("username", "a b".into())])
                .as_str(),
            "https://example.com/gitlab/api/v4/users?username=a+b"
        );
        assert_eq!(
            client.inner.graphql.as_str(),
            "https://example.com/gitlab/api/graphql"
        );
    }
}
