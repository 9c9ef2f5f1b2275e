//! Errors talking to GitLab, each saying what went wrong and what to do about it.

/// A failed GitLab request. Messages never contain the token (it is never in a URL).
#[derive(Debug, Clone, thiserror::Error)]
pub enum GitlabError {
    #[error("GitLab refused the token (401 Unauthorized) at {url}: it is wrong, expired or revoked.\n  hint: create a personal access token with the `read_api` scope and set GITLAB_TOKEN")]
    Unauthorized { url: String },
    #[error("GitLab denied access (403 Forbidden) to {url}: {message}\n  hint: the token needs the `read_api` scope and access to the user, group or project")]
    Forbidden { url: String, message: String },
    #[error("GitLab answered 404 Not Found for {url}\n  hint: check --gitlab-url (an instance under a path needs it, e.g. https://host/gitlab)")]
    NotFound { url: String },
    #[error("GitLab answered {status} for {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach GitLab at {url}: {detail}\n  hint: check --gitlab-url / GITLAB_URL and the network")]
    Connect { url: String, detail: String },
    #[error("GitLab's TLS certificate is not trusted at {url}: {problem}\n  hint: for an instance whose certificate comes from a private certificate authority, pass that CA's certificate (PEM) with --ca-cert FILE or set network.ca_cert in the config; gl-evidence never skips the check")]
    Certificate { url: String, problem: String },
    #[error("GitLab did not answer {url} within {secs} s\n  hint: raise [network] timeout_secs in the config, or try again later")]
    Timeout { url: String, secs: u64 },
    #[error("GitLab sent an answer gl-evidence cannot read from {url}: {detail}")]
    InvalidBody { url: String, detail: String },
    #[error("GitLab answered {url} in a shape gl-evidence does not expect: {detail}\n  hint: the instance may run a GitLab version gl-evidence does not support yet; please report it")]
    UnexpectedShape { url: String, detail: String },
    #[error("this GitLab instance does not know a field gl-evidence asks for in {operation}: {message}\n  hint: the instance may be older than GitLab 17 or a Community Edition (Free) server without this feature")]
    UnknownField { operation: String, message: String },
    #[error("GitLab found the {operation} query too complex: {message}")]
    TooComplex { operation: String, message: String },
    #[error("GitLab answered {operation} with errors: {messages}")]
    GraphQl { operation: String, messages: String },
    #[error("GitLab repeated page {page} of {url}: stopped to avoid an endless loop")]
    RepeatedPage { url: String, page: String },
    #[error(
        "GitLab announced more pages of {url} but no cursor to ask for them: the rest is missing"
    )]
    MissingCursor { url: String },
    #[error("{last}\n  (gave up after {attempts} attempts)")]
    RetriesExhausted {
        url: String,
        attempts: u32,
        last: Box<GitlabError>,
    },
}
