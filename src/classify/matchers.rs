//! The pattern languages of rule conditions: GitLab labels, words and phrases, and path globs.
//!
//! All matching is case-insensitive. Each pattern is parsed once (`parse` returns a message for
//! a bad pattern, which validation reports) and then matched against many items.

/// A label as compared: lower case, `-` `_` and runs of spaces as one space, the parts of a
/// scoped label (`severity::1`) normalised separately, and the `~"…"` quick-action quoting
/// dropped. So `Corrective Action`, `corrective-action` and `~"corrective_action"` are equal.
pub(crate) fn normalise_label(label: &str) -> String {
    let trimmed = label.trim();
    let unquoted = trimmed
        .strip_prefix('~')
        .unwrap_or(trimmed)
        .trim_matches('"');
    unquoted
        .split("::")
        .map(|part| {
            part.chars()
                .map(|c| if c == '-' || c == '_' { ' ' } else { c })
                .collect::<String>()
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("::")
}

/// A `labels_any` pattern: a normalised label where `*` matches anything, so `type::*` is any
/// value of the `type` scope (and not the bare label `type`).
#[derive(Debug, Clone)]
pub(crate) struct LabelPattern {
    chars: Vec<char>,
}

impl LabelPattern {
    pub(crate) fn parse(pattern: &str) -> Result<LabelPattern, String> {
        let normalised = normalise_label(pattern);
        if normalised.is_empty() {
            return Err("empty label pattern".to_string());
        }
        Ok(LabelPattern {
            chars: normalised.chars().collect(),
        })
    }

    /// `label` must already be normalised with [`normalise_label`].
    pub(crate) fn matches(&self, label: &str) -> bool {
        let text: Vec<char> = label.chars().collect();
        wildcard(&self.chars, &text, false)
    }
}

/// `*` matches any run of characters (and `?` one character when `question` is set).
/// Iterative with one backtrack point, so it stays linear-ish on long inputs.
fn wildcard(pattern: &[char], text: &[char], question: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == text[t] || (question && pattern[p] == '?')) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// One word of text: a run of letters and digits, lower-cased, with its byte span in the
/// original so a reason can quote the text as written.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    text: String,
    start: usize,
    end: usize,
}

/// Splits text into words. Everything that is not a letter or digit separates words, so
/// `trade-off`, `trade off` and `trade_off` are all the two words `trade off`.
pub(crate) fn tokenise(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                tokens.push(Token {
                    text: text[s..i].to_lowercase(),
                    start: s,
                    end: i,
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(Token {
            text: text[s..].to_lowercase(),
            start: s,
            end: text.len(),
        });
    }
    tokens
}

#[derive(Debug, Clone, PartialEq)]
enum WordPattern {
    Exact(String),
    /// `refactor*` matches `refactor`, `refactoring`, `refactors`.
    Prefix(String),
    /// `#` matches any number, for `part # of #`.
    Number,
}

/// A `words_any` pattern: one or more whole words that must appear in a row. Words match whole
/// words only (`rfc` does not match `rfcs`); a trailing `*` makes a word a prefix (`rfc*`), and
/// `#` stands for any number.
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    words: Vec<WordPattern>,
}

impl Phrase {
    pub(crate) fn parse(pattern: &str) -> Result<Phrase, String> {
        let mut words = Vec::new();
        for piece in pattern
            .split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '#'))
            .filter(|p| !p.is_empty())
        {
            let word = if piece == "#" {
                WordPattern::Number
            } else if let Some(stem) = piece.strip_suffix('*') {
                if stem.is_empty() || !stem.chars().all(char::is_alphanumeric) {
                    return Err(format!(
                        "word pattern {pattern:?}: `*` may only end a word, as in \"refactor*\""
                    ));
                }
                WordPattern::Prefix(stem.to_lowercase())
            } else if piece.contains(['*', '#']) {
                return Err(format!(
                    "word pattern {pattern:?}: `*` may only end a word and `#` must stand alone (it means any number)"
                ));
            } else {
                WordPattern::Exact(piece.to_lowercase())
            };
            words.push(word);
        }
        if words.is_empty() {
            return Err(format!("word pattern {pattern:?} has no words"));
        }
        Ok(Phrase { words })
    }

    /// The byte span of the first occurrence in the text `tokens` came from.
    pub(crate) fn find(&self, tokens: &[Token]) -> Option<(usize, usize)> {
        let n = self.words.len();
        if tokens.len() < n {
            return None;
        }
        tokens.windows(n).find_map(|window| {
            let hit = window
                .iter()
                .zip(&self.words)
                .all(|(token, word)| match word {
                    WordPattern::Exact(w) => token.text == *w,
                    WordPattern::Prefix(p) => token.text.starts_with(p.as_str()),
                    WordPattern::Number => token.text.chars().all(|c| c.is_ascii_digit()),
                });
            hit.then(|| (window[0].start, window[n - 1].end))
        })
    }
}

#[derive(Debug, Clone)]
enum Segment {
    /// `**`: zero or more whole segments.
    AnyDepth,
    /// One segment; `*` matches within it, `?` one character.
    Name(Vec<char>),
}

/// A path glob: `*` and `?` stay within one `/`-separated segment, `**` spans any number of
/// segments (including none). The whole path must match: `*.md` is a root-level file only,
/// `**/*.md` is any Markdown file. A trailing `/` means "everything below" (`doc/` = `doc/**`).
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    segments: Vec<Segment>,
}

impl Glob {
    pub(crate) fn parse(pattern: &str) -> Result<Glob, String> {
        let trimmed = pattern.trim();
        let relative = trimmed
            .strip_prefix("./")
            .or_else(|| trimmed.strip_prefix('/'))
            .unwrap_or(trimmed);
        if relative.is_empty() {
            return Err(format!("glob {pattern:?} is empty"));
        }
        if relative.contains(['[', ']', '{', '}']) {
            return Err(format!(
                "glob {pattern:?}: only `*`, `?` and `**` are supported; list alternatives as separate patterns"
            ));
        }
        let mut body = relative.to_lowercase();
        if body.ends_with('/') {
            body.push_str("**");
        }
        let mut segments = Vec::new();
        for segment in body.split('/') {
            if segment.is_empty() {
                return Err(format!("glob {pattern:?} has an empty segment (`//`)"));
            }
            if segment == "**" {
                // `**/**` means the same as `**`, and collapsing keeps matching cheap.
                if !matches!(segments.last(), Some(Segment::AnyDepth)) {
                    segments.push(Segment::AnyDepth);
                }
            } else if segment.contains("**") {
                return Err(format!(
                    "glob {pattern:?}: `**` must be a whole segment, as in `doc/**/*.md`"
                ));
            } else {
                segments.push(Segment::Name(segment.chars().collect()));
            }
        }
        Ok(Glob { segments })
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        let lower = path.trim_start_matches('/').to_lowercase();
        let parts: Vec<Vec<char>> = lower.split('/').map(|s| s.chars().collect()).collect();
        match_segments(&self.segments, &parts)
    }
}

fn match_segments(pattern: &[Segment], path: &[Vec<char>]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((Segment::AnyDepth, rest)) => {
            (0..=path.len()).any(|skip| match_segments(rest, &path[skip..]))
        }
        Some((Segment::Name(name), rest)) => {
            !path.is_empty() && wildcard(name, &path[0], true) && match_segments(rest, &path[1..])
        }
    }
}

/// A `project_any` pattern. Without wildcards it is a path prefix that ends at a `/`
/// (`gitlab-com/gl-infra` covers every project below that group, but not `gitlab-com/gl-infra-x`);
/// with wildcards it is a [`Glob`] on the whole path (`*/handbook`, `**/runbooks`).
#[derive(Debug, Clone)]
pub(crate) enum ProjectPattern {
    Prefix(String),
    Glob(Glob),
}

impl ProjectPattern {
    pub(crate) fn parse(pattern: &str) -> Result<ProjectPattern, String> {
        let trimmed = pattern.trim().trim_matches('/');
        if trimmed.is_empty() {
            return Err(format!("project pattern {pattern:?} is empty"));
        }
        if trimmed.contains(['*', '?', '[', '{']) {
            Glob::parse(trimmed).map(ProjectPattern::Glob)
        } else {
            Ok(ProjectPattern::Prefix(trimmed.to_lowercase()))
        }
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            ProjectPattern::Prefix(prefix) => {
                let path = path.trim_matches('/').to_lowercase();
                path == *prefix
                    || (path.starts_with(prefix.as_str()) && path[prefix.len()..].starts_with('/'))
            }
            ProjectPattern::Glob(glob) => glob.matches(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(pattern: &str, label: &str) -> bool {
        LabelPattern::parse(pattern)
            .unwrap()
            .matches(&normalise_label(label))
    }

    #[test]
    fn labels_tolerate_gitlab_spellings() {
        for written in [
            "Corrective Action",
            "corrective-action",
            "corrective_action",
            "CORRECTIVE  ACTION",
            "~\"corrective action\"",
        ] {
            assert!(label("corrective action", written), "{written}");
            assert!(label("Corrective-Action", written), "{written}");
        }
        assert!(!label("corrective action", "corrective actions"));
        assert!(!label("corrective action", "corrective action::done"));
        assert!(label("severity::1", "severity::1"));
        assert!(label("Severity::1", "severity::1"));
        assert!(!label("severity::1", "severity::2"));
        assert!(label("workflow::in dev", "workflow::in-dev"));
    }

    #[test]
    fn scoped_wildcards_match_any_value_of_the_scope() {
        assert!(label("type::*", "type::maintenance"));
        assert!(label("type::*", "Type::Feature"));
        assert!(label("severity::*", "severity::1"));
        assert!(!label("type::*", "type"));
        assert!(!label("type::*", "subtype::x"));
        assert!(!label("severity::*", "priority::1"));
        assert!(label("*debt*", "tech debt"));
        assert!(LabelPattern::parse("  ").is_err());
    }

    fn find(pattern: &str, text: &str) -> Option<String> {
        let phrase = Phrase::parse(pattern).unwrap();
        phrase
            .find(&tokenise(text))
            .map(|(s, e)| text[s..e].to_string())
    }

    #[test]
    fn words_match_whole_words_not_substrings() {
        assert_eq!(
            find("rfc", "RFC: new logging pipeline").as_deref(),
            Some("RFC")
        );
        assert_eq!(find("rfc", "Collect all RFCs"), None);
        assert_eq!(find("rfc*", "Collect all RFCs").as_deref(), Some("RFCs"));
        assert_eq!(find("bump", "Bumpy road"), None);
        assert_eq!(
            find("refactor*", "Refactoring the router").as_deref(),
            Some("Refactoring")
        );
        assert_eq!(find("typo", "typography"), None);
    }

    #[test]
    fn phrases_span_punctuation_and_numbers() {
        assert_eq!(
            find("trade-off*", "The trade offs are clear").as_deref(),
            Some("trade offs")
        );
        assert_eq!(
            find("trade off*", "Trade-off: latency").as_deref(),
            Some("Trade-off")
        );
        assert_eq!(
            find("pros and cons", "Pros  and\ncons"),
            Some("Pros  and\ncons".to_string())
        );
        assert_eq!(find("pros and cons", "pros, cons"), None);
        assert_eq!(
            find("part # of #", "Move Redis (part 2 of 5)").as_deref(),
            Some("part 2 of 5")
        );
        assert_eq!(find("part # of #", "part two of five"), None);
        assert_eq!(
            find("chore(deps)", "chore(deps): update x").as_deref(),
            Some("chore(deps")
        );
        assert_eq!(find("café", "Le CAFÉ ouvre").as_deref(), Some("CAFÉ"));
        assert!(Phrase::parse("a*b").is_err());
        assert!(Phrase::parse("*").is_err());
        assert!(Phrase::parse(" - ").is_err());
        assert!(Phrase::parse("c#").is_err());
    }

    fn glob(pattern: &str, path: &str) -> bool {
        Glob::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn globs_keep_single_stars_within_a_segment() {
        assert!(glob("**/*.md", "README.md"));
        assert!(glob("**/*.md", "doc/development/a.md"));
        assert!(!glob("**/*.md", "doc/a.mdx"));
        assert!(glob("*.md", "README.md"));
        assert!(!glob("*.md", "doc/README.md"));
        assert!(glob(
            "doc/architecture/**",
            "doc/architecture/blueprints/x/index.md"
        ));
        assert!(glob("doc/architecture/**", "doc/architecture"));
        assert!(!glob("doc/architecture/**", "doc/architectures/x"));
        assert!(glob("doc/**/index.md", "doc/index.md"));
        assert!(glob("doc/**/index.md", "doc/a/b/index.md"));
        assert!(glob(".gitlab-ci.yml", ".gitlab-ci.yml"));
        assert!(!glob(".gitlab-ci.yml", "ci/.gitlab-ci.yml"));
        assert!(glob("/.gitlab-ci.yml", ".gitlab-ci.yml"));
        assert!(glob("doc/", "doc/x/y.md"));
        assert!(glob("CONTRIBUTING.md", "contributing.md"));
        assert!(glob("file?.txt", "file1.txt"));
        assert!(!glob("file?.txt", "file12.txt"));
        assert!(glob("**/**/x", "a/x"));
        for bad in ["", "doc//x", "doc/a**/x", "{a,b}.md", "[ab].md"] {
            assert!(Glob::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn projects_match_by_prefix_or_glob() {
        let p = |pattern: &str, path: &str| ProjectPattern::parse(pattern).unwrap().matches(path);
        assert!(p("gitlab-com/runbooks", "gitlab-com/runbooks"));
        assert!(p("gitlab-com/gl-infra", "gitlab-com/gl-infra/reliability"));
        assert!(p("gitlab-com/gl-infra/", "GitLab-com/gl-infra/reliability"));
        assert!(!p("gitlab-com/gl-infra", "gitlab-com/gl-infra-x/y"));
        assert!(p("*/handbook", "gitlab-com/handbook"));
        assert!(!p("*/handbook", "gitlab-com/content-sites/handbook"));
        assert!(p("**/handbook", "gitlab-com/content-sites/handbook"));
        assert!(ProjectPattern::parse("/").is_err());
    }
}
