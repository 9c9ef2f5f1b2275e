//! REST v4: single requests and offset paging: the pages `x-total-pages` announces in parallel,
//! then `x-next-page` / `Link` to the end (GitLab omits the totals past 10,000 rows, and rows may
//! be added while we read). A server that repeats a page (a proxy dropping the query string
//! answers page 1 whatever is asked) is caught by the page's content, not followed forever.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::future::join_all;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::{Auth, Client, GitlabError, Priority, RequestCounter};

/// What a paged read collected, and the error that stopped it early, if any.
#[derive(Debug)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub error: Option<GitlabError>,
}

/// Longest page chain followed; a guard against a server that never says "last page".
const MAX_PAGES: u32 = 10_000;

impl Client {
    /// GET one REST resource and decode it.
    pub async fn rest_get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        counter: &RequestCounter,
    ) -> Result<T, GitlabError> {
        let url = self.rest_url(path, query);
        let (value, _) = self.rest_send(&url, counter).await?;
        Ok(value)
    }

    async fn rest_send<T: DeserializeOwned>(
        &self,
        url: &url::Url,
        counter: &RequestCounter,
    ) -> Result<(T, HeaderMap), GitlabError> {
        let ((value, _), headers) = self
            .rest_send_hashed(url, counter, Priority::Urgent)
            .await?;
        Ok((value, headers))
    }

    /// [`Client::rest_send`], with a hash of the body as received, to recognise a page seen
    /// before.
    async fn rest_send_hashed<T: DeserializeOwned>(
        &self,
        url: &url::Url,
        counter: &RequestCounter,
        priority: Priority,
    ) -> Result<((T, u64), HeaderMap), GitlabError> {
        let shown = url.to_string();
        self.send_with(
            || {
                self.authorize(self.inner.http.get(url.clone()), Auth::PrivateToken)
                    .header("Accept", "application/json")
            },
            &shown,
            counter,
            |body| {
                let value = serde_json::from_slice(body)
                    .map_err(|e| super::decode_error(&shown, &e, body))?;
                let mut hasher = DefaultHasher::new();
                body.hash(&mut hasher);
                Ok((value, hasher.finish()))
            },
            super::is_retryable,
            priority,
        )
        .await
    }

    /// GET every page of a REST list (`per_page=100`). Items collected before a failure are kept.
    ///
    /// When the first page says how many pages there are (`x-total-pages`; GitLab leaves it out
    /// past 10,000 rows), the rest are asked for at once, in parallel; otherwise, and after the
    /// last page announced if rows were added meanwhile, the `x-next-page` chain is followed.
    pub async fn rest_get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        counter: &RequestCounter,
        mut on_page: impl FnMut(usize),
    ) -> Paged<T> {
        // Pages announced together are bulk: the chains of other lists go first.
        let fetch = |page: u32, priority: Priority| {
            let mut params = query.to_vec();
            params.push(("per_page", "100".to_string()));
            params.push(("page", page.to_string()));
            let url = self.rest_url(path, &params);
            async move {
                let answer = self
                    .rest_send_hashed::<Vec<T>>(&url, counter, priority)
                    .await;
                (url, answer)
            }
        };
        // Hashes of the non-empty pages read: no two pages of a list are alike.
        let mut seen = HashSet::new();
        let repeated = |url: &url::Url| GitlabError::RepeatedPage {
            url: url.to_string(),
            page: url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map_or_else(String::new, |(_, v)| v.into_owned()),
        };
        let mut items = Vec::new();
        let mut page: u32 = 1;
        let (mut url, mut answer) = fetch(page, Priority::Urgent).await;
        loop {
            let ((batch, hash), headers) = match answer {
                Ok(ok) => ok,
                Err(error) => {
                    return Paged {
                        items,
                        error: Some(error),
                    }
                }
            };
            let empty = batch.is_empty();
            if !empty && !seen.insert(hash) {
                return Paged {
                    items,
                    error: Some(repeated(&url)),
                };
            }
            items.extend(batch);
            on_page(items.len());
            let Some(next) = next_page(&headers).filter(|_| !empty) else {
                break;
            };
            if next <= page || next > MAX_PAGES {
                return Paged {
                    items,
                    error: Some(GitlabError::RepeatedPage {
                        url: url.to_string(),
                        page: next.to_string(),
                    }),
                };
            }
            let last = total_pages(&headers).filter(|last| *last > next && *last <= MAX_PAGES);
            match (page, last) {
                (1, Some(last)) => {
                    // Pages 2..=last at once; the chain resumes from the last one's answer.
                    let mut answers =
                        join_all((next..=last).map(|page| fetch(page, Priority::Bulk))).await;
                    let tail = answers.pop().expect("at least two pages");
                    for (url, answer) in answers {
                        match answer {
                            Ok(((batch, hash), _)) => {
                                if !batch.is_empty() && !seen.insert(hash) {
                                    return Paged {
                                        items,
                                        error: Some(repeated(&url)),
                                    };
                                }
                                items.extend(batch)
                            }
                            Err(error) => {
                                return Paged {
                                    items,
                                    error: Some(error),
                                }
                            }
                        }
                    }
                    page = last;
                    (url, answer) = tail;
                }
                _ => {
                    page = next;
                    (url, answer) = fetch(page, Priority::Urgent).await;
                }
            }
        }
        Paged { items, error: None }
    }
}

/// The number of pages, from `x-total-pages`, when GitLab gives it.
fn total_pages(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("x-total-pages")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The next page number from `x-next-page`, else from the `Link` header's `rel="next"`.
pub(crate) fn next_page(headers: &HeaderMap) -> Option<u32> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = header("x-next-page") {
        let value = value.trim();
        return if value.is_empty() {
            None
        } else {
            value.parse().ok()
        };
    }
    let link = header("link")?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        if !is_next {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let url = url::Url::parse(target).ok()?;
        let page = url.query_pairs().find(|(k, _)| k == "page")?.1;
        page.parse().ok()
    })
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

    /// The headers that carry the token show as `Sensitive` in any Debug output of a request
    /// (what a `-vv` log of reqwest or hyper would print).
    #[test]
    fn token_headers_are_redacted_in_debug_output() {
        let secret = "glpat-debugSECRET123";
        let client = Client::new(
            super::super::ClientOptions {
                base_url: url::Url::parse("https://gitlab.example.com").unwrap(),
                concurrency: 1,
                timeout: std::time::Duration::from_secs(1),
                retry: super::super::RetryPolicy {
                    max_retries: 0,
                    base: std::time::Duration::from_millis(1),
                    max_wait: std::time::Duration::from_millis(1),
                },
                ca_certificates: Vec::new(),
            },
            crate::config::Secret::new(secret.into()),
        )
        .unwrap();
        for auth in [Auth::PrivateToken, Auth::Bearer] {
            let request = client
                .authorize(client.inner.http.get(client.rest_url("user", &[])), auth)
                .build()
                .unwrap();
            let shown = format!("{request:?} {:?}", request.headers());
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("Sensitive"), "{shown}");
            assert!(!request.url().as_str().contains(secret));
        }
    }

    #[test]
    fn next_page_prefers_x_next_page() {
        assert_eq!(next_page(&headers(&[("x-next-page", "3")])), Some(3));
        assert_eq!(next_page(&headers(&[("x-next-page", "")])), None);
        assert_eq!(next_page(&HeaderMap::new()), None);
    }

    #[test]
    fn next_page_falls_back_to_link() {
        let link = r#"<https://gl.example.com/api/v4/users/1/events?page=1&per_page=100>; rel="prev", <https://gl.example.com/api/v4/users/1/events?page=3&per_page=100>; rel="next", <https://gl.example.com/api/v4/users/1/events?page=1&per_page=100>; rel="first""#;
        assert_eq!(next_page(&headers(&[("link", link)])), Some(3));
        let last_only = r#"<https://gl.example.com/api/v4/x?page=1>; rel="first""#;
        assert_eq!(next_page(&headers(&[("link", last_only)])), None);
    }
}
