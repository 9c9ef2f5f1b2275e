//! Faults beyond the counted ones in [`super::Faults`]: seeded random faults on a share of the
//! requests, connections reset without an answer, answers slower than the client waits, bodies
//! that are not the JSON they claim to be, and servers that repeat a REST page or a GraphQL
//! cursor.
//!
//! Random faults are decided per distinct request (method, path, query, body) and per attempt at
//! it, from a seed: the same run meets the same faults however its concurrent requests happen to
//! arrive, so a failing test can be replayed.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::http::StatusCode;
use axum::serve::IncomingStream;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::{Answer, Payload};

/// Seeded faults on `percent` % of the targeted requests (see [`super::Faults::targets`]).
#[derive(Debug, Clone)]
pub struct Chaos {
    pub seed: u64,
    /// 0 to 100; 100 hits every attempt, so the fault never passes.
    pub percent: u32,
    pub fault: ChaosFault,
}

/// What a request hit by [`Chaos`] gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaosFault {
    /// `500`, `502` or `503`, as a struggling instance or its load balancer answers.
    ServerError,
    /// The connection is closed (with a TCP reset) before any answer.
    Reset,
    /// The answer comes after this many milliseconds (set it above the client's timeout).
    Slow { ms: u64 },
    /// `429 Too Many Requests` with `Retry-After` ([`super::Faults::retry_after_secs`]).
    TooManyRequests,
    /// Headers and half the body, then the connection dies.
    CutBody,
    /// A whole `200` answer whose JSON stops halfway (`Content-Length` matches what is sent).
    TruncatedJson,
    /// A `200` answer with an HTML error page, as a proxy in front of GitLab sends.
    NotJson,
    /// A `200` answer with valid JSON of the wrong shape (an object where a list belongs):
    /// retrying cannot help. Not part of `Mixed`.
    WrongShape,
    /// One of the above but `WrongShape`, chosen per hit from the seed (slow answers take `slow_ms`).
    Mixed { slow_ms: u64 },
}

/// A GraphQL server whose cursors go wrong on the targeted operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingFault {
    /// Every page is the first one again, with the same `endCursor` and `hasNextPage: true`.
    Repeat,
    /// Every page is the first one again, with a new `endCursor` each time and
    /// `hasNextPage: true`: only the content repeats.
    IgnoreAfter,
    /// `hasNextPage: true` with `endCursor: null`: more is announced but cannot be asked for.
    NoCursor,
}

/// A small, stable hash (FNV-1a, then a SplitMix64 finish): the same everywhere and in every Rust
/// version, unlike `DefaultHasher`.
fn hash(seed: u64, text: &str, attempt: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in text.bytes().chain((attempt as u64).to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Chaos {
    /// The fault attempt number `attempt` (0-based) at request `key` meets, if any.
    pub(super) fn decide(&self, key: &str, attempt: usize) -> Option<ChaosFault> {
        let h = hash(self.seed, key, attempt);
        if h % 100 >= u64::from(self.percent) {
            return None;
        }
        Some(match self.fault {
            ChaosFault::Mixed { slow_ms } => match (h >> 8) % 7 {
                0 => ChaosFault::ServerError,
                1 => ChaosFault::Reset,
                2 => ChaosFault::Slow { ms: slow_ms },
                3 => ChaosFault::TooManyRequests,
                4 => ChaosFault::CutBody,
                5 => ChaosFault::TruncatedJson,
                _ => ChaosFault::NotJson,
            },
            fault => fault,
        })
    }

    /// Which 5xx a [`ChaosFault::ServerError`] hit answers.
    pub(super) fn server_error(&self, key: &str, attempt: usize) -> Answer {
        let (status, message) = match (hash(self.seed, key, attempt) >> 16) % 3 {
            0 => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error",
            ),
            1 => (StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
            _ => (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable"),
        };
        Answer::json(status, &json!({ "message": message }))
    }
}

/// The answer's JSON cut in half, sent whole (the server thinks it answered).
pub(super) fn truncate_json(answer: &mut Answer) {
    if let Payload::Whole(bytes) = &answer.payload {
        let half = bytes[..bytes.len() / 2].to_vec();
        answer.payload = Payload::Whole(half);
    }
}

/// The HTML page a proxy in front of GitLab answers, with status 200.
pub(super) fn html_page() -> Answer {
    Answer {
        status: StatusCode::OK,
        headers: Vec::new(),
        content_type: "text/html",
        payload: Payload::Whole(
            b"<html><head><title>Sign in</title></head><body>Session expired</body></html>\n"
                .to_vec(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Repeating pages.

/// The REST page asked for, and the query rewritten to ask for page 1 instead: a server that
/// repeats itself answers every page with the first.
pub(super) fn first_page_query(query: &str) -> (usize, String) {
    let mut claimed = 1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            if k == "page" {
                claimed = v.parse().unwrap_or(1);
                (k.into_owned(), "1".to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    let rewritten = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    (claimed, rewritten)
}

/// Headers of a repeated REST page: page `claimed` of a list that never ends, without totals.
pub(super) fn endless_page_headers(answer: &mut Answer, claimed: usize) {
    if answer.status != StatusCode::OK {
        return;
    }
    answer.headers.retain(|(name, _)| {
        !matches!(
            name.as_str(),
            "x-page" | "x-next-page" | "x-prev-page" | "x-total" | "x-total-pages" | "link"
        )
    });
    answer.headers.push(("x-page".into(), claimed.to_string()));
    answer
        .headers
        .push(("x-next-page".into(), (claimed + 1).to_string()));
}

/// The GraphQL request with its `after` cursor removed, so the first page is answered.
pub(super) fn without_cursor(body: &str) -> String {
    let Ok(mut request) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    if let Some(variables) = request.get_mut("variables").and_then(Value::as_object_mut) {
        variables.insert("after".into(), Value::Null);
    }
    request.to_string()
}

/// Rewrites every `pageInfo` in a GraphQL answer as `fault` says; `n` makes fresh cursors.
pub(super) fn rewrite_page_info(answer: &mut Answer, fault: PagingFault, n: usize) {
    let Payload::Whole(bytes) = &answer.payload else {
        return;
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    fn walk(value: &mut Value, fault: PagingFault, n: usize) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(info)) = map.get_mut("pageInfo") {
                    let cursor = match fault {
                        PagingFault::Repeat => json!("ZmFrZQrepeat"),
                        PagingFault::IgnoreAfter => json!(format!("ZmFrZQfresh{n}")),
                        PagingFault::NoCursor => Value::Null,
                    };
                    info.insert("hasNextPage".into(), json!(true));
                    info.insert("endCursor".into(), cursor);
                }
                for child in map.values_mut() {
                    walk(child, fault, n);
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|v| walk(v, fault, n)),
            _ => {}
        }
    }
    if let Some(data) = value.get_mut("data") {
        walk(data, fault, n);
    }
    answer.payload = Payload::Whole(serde_json::to_vec(&value).expect("json"));
}

// ---------------------------------------------------------------------------------------------
// Connections a handler can reset.

/// Accepts loopback connections whose socket a handler can reset: the handler finds the
/// connection's [`Conn`] in the request's `ConnectInfo` and calls [`Conn::reset`].
pub(super) struct ResettableListener(pub TcpListener);

/// One connection, as its requests see it.
#[derive(Debug, Clone)]
pub(super) struct Conn {
    pub peer: SocketAddr,
    reset: Arc<AtomicBool>,
}

impl Conn {
    /// Kills the connection: nothing more is written, and closing it sends a TCP reset.
    pub fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }
}

impl axum::serve::Listener for ResettableListener {
    type Io = ResettableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, peer)) => {
                    let reset = Arc::new(AtomicBool::new(false));
                    let conn = Conn {
                        peer,
                        reset: Arc::clone(&reset),
                    };
                    return (ResettableStream { stream, reset }, conn);
                }
                // Out of file descriptors and the like: wait a moment, as axum's listener does.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn {
            peer: self.0.local_addr()?,
            reset: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, ResettableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, ResettableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

pub(super) struct ResettableStream {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableStream {
    fn killed(&self) -> Option<io::Error> {
        if !self.reset.load(Ordering::SeqCst) {
            return None;
        }
        // A zero linger makes the close a reset, as a crashed process or a middlebox gives.
        let _ = self.stream.set_zero_linger();
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "fake GitLab reset the connection",
        ))
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_depend_on_the_seed_the_request_and_the_attempt_only() {
        let chaos = Chaos {
            seed: 7,
            percent: 10,
            fault: ChaosFault::ServerError,
        };
        let hits = (0..10_000)
            .filter(|n| chaos.decide(&format!("GET /x?page={n}"), 0).is_some())
            .count();
        assert!((800..1200).contains(&hits), "about 10 %: {hits}");
        for n in 0..100 {
            let key = format!("GET /y?page={n}");
            assert_eq!(chaos.decide(&key, 0), chaos.decide(&key, 0));
        }
    }
}
