//! The pattern languages of rule conditions: GitLab labels, words and phrases, and path globs.
//!
//! All matching is case-insensitive. Each pattern is parsed once (`parse` returns a message for
//! a bad pattern, which validation reports) and then matched against many items, so the item
//! side is prepared once too ([`Words`], [`PathView`], [`PlaceView`]), and cheap summaries of
//! an item's words, labels and path segments rule most patterns out before any comparison.

use std::cell::OnceCell;

/// A label as compared: lower case, `-` `_` and runs of spaces as one space, the parts of a
/// scoped label (`severity::1`) normalised separately, and the `~"…"` quick-action quoting
/// dropped. So `Corrective Action`, `corrective-action` and `~"corrective_action"` are equal.
pub(crate) fn normalise_label(label: &str) -> String {
    let mut out = String::new();
    normalise_label_into(label, &mut out);
    out
}

/// [`normalise_label`], appending to `out`: an item's labels share one buffer.
pub(crate) fn normalise_label_into(label: &str, out: &mut String) {
    let trimmed = label.trim();
    let unquoted = trimmed
        .strip_prefix('~')
        .unwrap_or(trimmed)
        .trim_matches('"');
    if !unquoted.is_ascii() {
        // Unicode lower-casing can depend on context (a final `Σ`), so it keeps the general
        // path; ASCII labels, nearly all of them, take the one-buffer path below.
        let normalised = unquoted
            .split("::")
            .map(|part| {
                let spaced: String = part
                    .chars()
                    .map(|c| if c == '-' || c == '_' { ' ' } else { c })
                    .collect();
                fold_case(&spaced)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("::");
        out.push_str(&normalised);
        return;
    }
    // The words of each part lower-cased, one space between them.
    let separator = |b: u8| b == b'-' || b == b'_' || char::from(b).is_whitespace();
    for (i, part) in scope_parts(unquoted).enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        let mut first = true;
        ascii_runs(
            part,
            |b| !separator(b),
            |start, end| {
                if !first {
                    out.push(' ');
                }
                first = false;
                let at = out.len();
                out.push_str(&part[start..end]);
                out[at..].make_ascii_lowercase();
            },
        );
    }
}

/// The parts of a scoped label, as `label.split("::")` gives them, without setting up a
/// substring searcher for every label.
fn scope_parts(label: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(label);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.as_bytes().windows(2).position(|pair| pair == b"::") {
            Some(at) => {
                rest = Some(&text[at + 2..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// Unicode lower case, for comparing. `to_lowercase` writes a `Σ` that ends a word as the final
/// sigma `ς` and any other as `σ`, so a pattern that stops mid-word (`ΟΔΟΣ*`) would miss the
/// word (`ΟΔΟΣΑ`): here both are `σ`.
fn fold_case(text: &str) -> String {
    let lower = text.to_lowercase();
    if lower.contains('ς') {
        lower.replace('ς', "σ")
    } else {
        lower
    }
}

/// `text` lower-cased; ASCII text, the usual case, takes the quicker ASCII routine.
fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        fold_case(text)
    }
}

/// Appends `text` lower-cased, without a temporary string when it is ASCII.
fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        let at = out.len();
        out.push_str(text);
        out[at..].make_ascii_lowercase();
    } else {
        out.push_str(&fold_case(text));
    }
}

/// A `labels_any` pattern: a normalised label where `*` matches anything, so `type::*` is any
/// value of the `type` scope (and not the bare label `type`).
#[derive(Debug, Clone)]
pub(crate) struct LabelPattern {
    text: String,
    /// Where the first `*` is; without one the pattern is a plain string comparison.
    star: Option<usize>,
    /// A plain pattern's [`label_bit`].
    bit: u64,
}

/// A normalised label's bit in an item's summary of its labels: an item without the bit of a
/// plain pattern cannot have that label, which rules most patterns out without comparing.
pub(crate) fn label_bit(normalised: &str) -> u64 {
    1 << (summary_hash(normalised.as_bytes()) >> 58)
}

impl LabelPattern {
    pub(crate) fn parse(pattern: &str) -> Result<LabelPattern, String> {
        let normalised = normalise_label(pattern);
        if normalised.is_empty() {
            return Err("empty label pattern".to_string());
        }
        Ok(LabelPattern {
            star: normalised.find('*'),
            bit: label_bit(&normalised),
            text: normalised,
        })
    }

    /// `label` must already be normalised with [`normalise_label`].
    pub(crate) fn matches(&self, label: &str) -> bool {
        match self.star {
            None => self.text == label,
            // The text before the first `*` must begin the label: a cheap test that rules out
            // most labels (`type::*` and `severity::1`) before the general match.
            Some(star) => {
                label.starts_with(&self.text[..star]) && wildcard_str(&self.text, label, false)
            }
        }
    }
}

/// [`wildcard`] on strings: on bytes when both are ASCII (bytes are then characters), on
/// characters otherwise.
fn wildcard_str(pattern: &str, text: &str, question: bool) -> bool {
    let any = question.then_some('?');
    if pattern.is_ascii() && text.is_ascii() {
        wildcard(
            pattern.as_bytes(),
            text.as_bytes(),
            b'*',
            any.map(|c| c as u8),
        )
    } else {
        let pattern: Vec<char> = pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        wildcard(&pattern, &text, '*', any)
    }
}

/// `star` matches any run of symbols (and `any`, when given, one symbol).
/// Iterative with one backtrack point, so it stays linear-ish on long inputs.
fn wildcard<T: Copy + PartialEq>(pattern: &[T], text: &[T], star: T, any: Option<T>) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == text[t] || any == Some(pattern[p])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == star {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = backtrack {
            p = sp + 1;
            t = st + 1;
            backtrack = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == star)
}

/// One word of text, as spans: of its lower-cased form in [`Words::lower`], and of the
/// original so a reason can quote the text as written.
#[derive(Debug, Clone)]
struct Token {
    lower_start: usize,
    lower_end: usize,
    start: usize,
    end: usize,
}

/// A text ready for phrase search: its words lower-cased into one buffer (one allocation per
/// text, not per word) and summarised at once; the list of words is built only when a phrase
/// gets past the summary, which most texts never need.
#[derive(Debug)]
pub(crate) struct Words<'t> {
    text: &'t str,
    /// For ASCII text, the whole text lower-cased, so words keep their offsets; otherwise the
    /// words lower-cased one after another.
    lower: String,
    /// Which words (and word beginnings) occur.
    seen: WordSet,
    tokens: OnceCell<Vec<Token>>,
}

impl Words<'_> {
    fn tokens(&self) -> &[Token] {
        // Only ASCII text leaves this unset (see `tokenise`).
        self.tokens.get_or_init(|| {
            // About one word per six bytes of prose: sized once rather than grown.
            let mut tokens = Vec::with_capacity(self.text.len() / 6 + 1);
            ascii_words(self.text, |start, end| {
                tokens.push(Token {
                    lower_start: start,
                    lower_end: end,
                    start,
                    end,
                })
            });
            tokens
        })
    }

    fn word(&self, token: &Token) -> &str {
        &self.lower[token.lower_start..token.lower_end]
    }
}

/// Lengths of a word's beginning that [`WordSet`] also records, so a prefix pattern
/// (`mentor*`) can be ruled out like an exact word: the longer the more telling (`sta` begins
/// many words, `stakeh` few), the shorter for short prefixes (`rfc*`).
const STEMS: [usize; 2] = [6, 3];

/// The longest of [`STEMS`] a prefix pattern's stem has, and its bit.
fn prefix_bit(stem: &str) -> Option<(usize, u16)> {
    STEMS
        .iter()
        .find_map(|&len| stem.as_bytes().get(..len).map(|s| (len, stem_bit(s))))
}

/// A 1024-bit summary of the words of a text (a Bloom filter with one hash): each word sets
/// one bit, and one more for each of its beginnings of [`STEMS`] bytes. A
/// phrase needing a bit that is not set cannot occur in the text, which rules out most
/// phrases without scanning it; a set bit proves nothing, so a phrase that passes is then
/// looked for properly.
#[derive(Debug, Clone, Default)]
struct WordSet([u64; 16]);

impl WordSet {
    /// `word` is lower-cased.
    fn insert(&mut self, word: &[u8]) {
        self.set(word_bit(word));
        for len in STEMS {
            if let Some(stem) = word.get(..len) {
                self.set(stem_bit(stem));
            }
        }
    }

    fn set(&mut self, bit: u16) {
        self.0[usize::from(bit / 64)] |= 1 << (bit % 64);
    }

    fn has(&self, bit: u16) -> bool {
        self.0[usize::from(bit / 64)] & (1 << (bit % 64)) != 0
    }

    fn intersects(&self, other: &WordSet) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
}

/// The [`WordSet`] bit of a word.
fn word_bit(word: &[u8]) -> u16 {
    (summary_hash(word) >> 54) as u16
}

/// The [`WordSet`] bit of a word's beginning; the hash is turned so that the stem `dog` and
/// the word `dog` do not share a bit.
fn stem_bit(stem: &[u8]) -> u16 {
    (summary_hash(stem).rotate_left(17) >> 54) as u16
}

/// A quick hash for the summaries: the first and last eight bytes and the length, mixed by one
/// multiplication. Two words that collide only cost a needless search, never a wrong answer.
fn summary_hash(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
    // Whole-word loads, overlapping for short words: no byte-by-byte loop.
    let (head, tail) = match n {
        8.. => (u64_at(0), u64_at(n - 8)),
        4..=7 => (u32_at(0), u32_at(n - 4)),
        1..=3 => {
            let [first, middle, last] = [0, n / 2, n - 1].map(|at| u64::from(bytes[at]));
            (first << 16 | middle << 8 | last, 0)
        }
        0 => (0, 0),
    };
    (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Splits text into words. Everything that is not a letter or digit separates words, so
/// `trade-off`, `trade off` and `trade_off` are all the two words `trade off`.
pub(crate) fn tokenise(text: &str) -> Words<'_> {
    if text.is_ascii() {
        // ASCII letters and digits are exactly the alphanumeric characters here, and
        // lower-casing the whole text at once lower-cases every word in place.
        let lower = text.to_ascii_lowercase();
        let mut seen = WordSet::default();
        ascii_words(&lower, |start, end| {
            seen.insert(&lower.as_bytes()[start..end])
        });
        return Words {
            text,
            lower,
            seen,
            tokens: OnceCell::new(),
        };
    }
    // Beyond ASCII each word is lower-cased on its own, as a word (context-dependent Unicode
    // rules see the word, not its neighbours), and the list of words is built straight away.
    let mut lower = String::with_capacity(text.len());
    let mut seen = WordSet::default();
    let mut tokens = Vec::new();
    let mut push = |start: usize, end: usize| {
        let lower_start = lower.len();
        push_lowercase(&mut lower, &text[start..end]);
        seen.insert(&lower.as_bytes()[lower_start..]);
        tokens.push(Token {
            lower_start,
            lower_end: lower.len(),
            start,
            end,
        });
    };
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push(s, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push(s, text.len());
    }
    Words {
        text,
        lower,
        seen,
        tokens: OnceCell::from(tokens),
    }
}

/// Calls `word` with the byte span of each run of ASCII letters and digits.
fn ascii_words(text: &str, word: impl FnMut(usize, usize)) {
    ascii_runs(text, |b| b.is_ascii_alphanumeric(), word);
}

/// Calls `run` with the byte span of each maximal run of bytes that `keep` accepts; for ASCII
/// text, where every byte is a character.
fn ascii_runs(text: &str, keep: impl Fn(u8) -> bool, mut run: impl FnMut(usize, usize)) {
    let mut start = None;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        match (keep(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                run(s, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        run(s, text.len());
    }
}

#[derive(Debug, Clone, PartialEq)]
enum WordPattern {
    Exact(String),
    /// `refactor*` matches `refactor`, `refactoring`, `refactors`.
    Prefix(String),
    /// `#` matches any number, for `part # of #`.
    Number,
}

impl WordPattern {
    fn matches(&self, word: &str) -> bool {
        match self {
            WordPattern::Exact(w) => word == w,
            WordPattern::Prefix(p) => word.starts_with(p.as_str()),
            WordPattern::Number => word.chars().all(|c| c.is_ascii_digit()),
        }
    }
}

/// A `words_any` pattern: one or more whole words that must appear in a row. Words match whole
/// words only (`rfc` does not match `rfcs`); a trailing `*` makes a word a prefix (`rfc*`), and
/// `#` stands for any number.
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    words: Vec<WordPattern>,
    /// The [`WordSet`] bits a text must have for the phrase to occur in it.
    required: Vec<u16>,
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
                WordPattern::Prefix(fold_case(stem))
            } else if piece.contains(['*', '#']) {
                return Err(format!(
                    "word pattern {pattern:?}: `*` may only end a word and `#` must stand alone (it means any number)"
                ));
            } else {
                WordPattern::Exact(fold_case(piece))
            };
            words.push(word);
        }
        if words.is_empty() {
            return Err(format!("word pattern {pattern:?} has no words"));
        }
        // The longest word first: likely the rarest, it makes the best anchor for PhraseList.
        let mut needs: Vec<(usize, u16)> = words
            .iter()
            .filter_map(|word| match word {
                WordPattern::Exact(w) => Some((w.len(), word_bit(w.as_bytes()))),
                WordPattern::Prefix(p) => prefix_bit(p),
                WordPattern::Number => None,
            })
            .collect();
        needs.sort_by_key(|&(len, _)| std::cmp::Reverse(len));
        let required = needs.into_iter().map(|(_, bit)| bit).collect();
        Ok(Phrase { words, required })
    }

    /// The byte span of the first occurrence in the text `tokens` came from.
    pub(crate) fn find(&self, text: &Words) -> Option<(usize, usize)> {
        if !self.required.iter().all(|&bit| text.seen.has(bit)) {
            return None;
        }
        let n = self.words.len();
        let words = text.tokens();
        if words.len() < n {
            return None;
        }
        let first = &self.words[0];
        (0..=words.len() - n).find_map(|at| {
            // The first word rules out nearly every position, so test it on its own.
            if !first.matches(text.word(&words[at])) {
                return None;
            }
            let window = &words[at..at + n];
            let hit = window
                .iter()
                .zip(&self.words)
                .skip(1)
                .all(|(token, word)| word.matches(text.word(token)));
            hit.then(|| (window[0].start, window[n - 1].end))
        })
    }
}

/// A `*words_any` list: any of its phrases may match. Each phrase lends one word it needs to a
/// summary of the list, so a text that has none of those words is ruled out in one test.
#[derive(Debug, Clone)]
pub(crate) struct PhraseList {
    pub(crate) phrases: Vec<Result<Phrase, String>>,
    /// `None` when a phrase needs no particular word (`#`, a short prefix): no shortcut then.
    anchors: Option<WordSet>,
}

impl PhraseList {
    pub(crate) fn parse(patterns: &[String]) -> PhraseList {
        let phrases: Vec<Result<Phrase, String>> =
            patterns.iter().map(|p| Phrase::parse(p)).collect();
        // A bad pattern never matches, so it needs no anchor.
        let anchors = phrases
            .iter()
            .flatten()
            .try_fold(WordSet::default(), |mut set, phrase| {
                set.set(*phrase.required.first()?);
                Some(set)
            });
        PhraseList { phrases, anchors }
    }

    /// False when no phrase of the list can occur in the text.
    pub(crate) fn may_occur(&self, words: &Words) -> bool {
        self.anchors
            .as_ref()
            .is_none_or(|anchors| words.seen.intersects(anchors))
    }
}

/// A `*labels_any` list, with the [`label_bit`]s of its plain patterns so an item with none
/// of those labels is ruled out in one test.
#[derive(Debug, Clone)]
pub(crate) struct LabelList {
    pub(crate) patterns: Vec<Result<LabelPattern, String>>,
    bits: u64,
    wild: bool,
}

impl LabelList {
    pub(crate) fn parse(patterns: &[String]) -> LabelList {
        let patterns: Vec<Result<LabelPattern, String>> =
            patterns.iter().map(|p| LabelPattern::parse(p)).collect();
        let ok = || patterns.iter().flatten();
        LabelList {
            bits: ok()
                .filter(|p| p.star.is_none())
                .fold(0, |all, p| all | p.bit),
            wild: ok().any(|p| p.star.is_some()),
            patterns,
        }
    }

    /// False when no pattern of the list can match one of the labels whose [`label_bit`]s
    /// are `labels`.
    pub(crate) fn may_match(&self, labels: u64) -> bool {
        self.wild || labels & self.bits != 0
    }
}

#[derive(Debug, Clone)]
enum Segment {
    /// `**`: zero or more whole segments.
    AnyDepth,
    /// One segment; `*` matches within it, `?` one character.
    Name(Name),
}

#[derive(Debug, Clone)]
struct Name {
    text: String,
    /// Has no `*` or `?`: a plain string comparison.
    literal: bool,
    /// Where the `*` is when it is the only wildcard (`*.md`, `runbook-*.md`).
    one_star: Option<usize>,
}

impl Name {
    fn new(text: &str) -> Name {
        let wildcards = text.matches(['*', '?']).count();
        Name {
            text: text.to_string(),
            literal: wildcards == 0,
            one_star: text.find('*').filter(|_| wildcards == 1),
        }
    }

    fn matches(&self, segment: &str) -> bool {
        if self.literal {
            return self.text == segment;
        }
        // One `*` is a prefix and a suffix. A `*` in the segment itself is compared as a
        // literal first by the general matcher, so such segments keep to it.
        if let Some(star) = self.one_star.filter(|_| !segment.contains('*')) {
            let (prefix, suffix) = (&self.text[..star], &self.text[star + 1..]);
            return segment.len() >= prefix.len() + suffix.len()
                && segment.starts_with(prefix)
                && segment.ends_with(suffix);
        }
        wildcard_str(&self.text, segment, true)
    }
}

/// A path as globs see it: without leading `/`, lower-cased, split at `/`. Built once per
/// changed path and matched against every glob.
#[derive(Debug, Clone)]
pub(crate) struct PathView {
    lower: String,
    /// Byte spans of the segments in `lower`.
    segments: Vec<(usize, usize)>,
    /// One bit per segment ([`segment_bit`]), so a glob can tell at once that a segment it
    /// names literally is missing.
    seen: u64,
}

impl PathView {
    pub(crate) fn new(path: &str) -> PathView {
        let lower = lowercase(path.trim_start_matches('/'));
        let mut segments = Vec::with_capacity(lower.bytes().filter(|&b| b == b'/').count() + 1);
        let mut seen = 0;
        let mut start = 0;
        for segment in lower.split('/') {
            segments.push((start, start + segment.len()));
            seen |= segment_bit(segment);
            start += segment.len() + 1;
        }
        PathView {
            lower,
            segments,
            seen,
        }
    }

    fn segment(&self, index: usize) -> &str {
        let (start, end) = self.segments[index];
        &self.lower[start..end]
    }
}

/// A path glob: `*` and `?` stay within one `/`-separated segment, `**` spans any number of
/// segments (including none). The whole path must match: `*.md` is a root-level file only,
/// `**/*.md` is any Markdown file. A trailing `/` means "everything below" (`doc/` = `doc/**`).
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    segments: Vec<Segment>,
    /// The [`segment_bit`]s of the segments without wildcards, which a path must all have.
    required: u64,
}

/// A path segment's bit in [`PathView::seen`].
fn segment_bit(segment: &str) -> u64 {
    1 << (summary_hash(segment.as_bytes()) >> 58)
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
        let mut body = fold_case(relative);
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
                segments.push(Segment::Name(Name::new(segment)));
            }
        }
        let required = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Name(name) if name.literal => Some(segment_bit(&name.text)),
                _ => None,
            })
            .fold(0, |all, bit| all | bit);
        Ok(Glob { segments, required })
    }

    #[cfg(test)]
    pub(crate) fn matches(&self, path: &str) -> bool {
        self.matches_view(&PathView::new(path))
    }

    pub(crate) fn matches_view(&self, path: &PathView) -> bool {
        path.seen & self.required == self.required && match_segments(&self.segments, path, 0)
    }
}

/// Whether `pattern` matches the segments of `path` from index `at` to the end.
fn match_segments(pattern: &[Segment], path: &PathView, at: usize) -> bool {
    let len = path.segments.len();
    match pattern.split_first() {
        None => at == len,
        Some((Segment::AnyDepth, rest)) => (at..=len).any(|skip| match_segments(rest, path, skip)),
        Some((Segment::Name(name), rest)) => {
            at < len && name.matches(path.segment(at)) && match_segments(rest, path, at + 1)
        }
    }
}

/// A project or group path as `project_any` sees it: trimmed of `/` and lower-cased for
/// prefixes, and as a [`PathView`] for globs. Built once per item.
#[derive(Debug, Clone)]
pub(crate) struct PlaceView {
    lower: String,
    glob: PathView,
}

impl PlaceView {
    pub(crate) fn new(path: &str) -> PlaceView {
        PlaceView {
            lower: lowercase(path.trim_matches('/')),
            glob: PathView::new(path),
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
            Ok(ProjectPattern::Prefix(fold_case(trimmed)))
        }
    }

    #[cfg(test)]
    pub(crate) fn matches(&self, path: &str) -> bool {
        self.matches_view(&PlaceView::new(path))
    }

    pub(crate) fn matches_view(&self, place: &PlaceView) -> bool {
        match self {
            ProjectPattern::Prefix(prefix) => {
                let path = &place.lower;
                *path == *prefix
                    || (path.starts_with(prefix.as_str()) && path[prefix.len()..].starts_with('/'))
            }
            ProjectPattern::Glob(glob) => glob.matches_view(&place.glob),
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

    /// Found by the property tests: `to_lowercase` spells a word-final `Σ` as `ς`, so a pattern
    /// cut after a `Σ` missed the words it begins.
    #[test]
    fn a_final_sigma_matches_a_sigma_inside_a_word() {
        assert_eq!(find("ΟΔΟΣ*", "ΟΔΟΣΑ ok").as_deref(), Some("ΟΔΟΣΑ"));
        assert_eq!(find("οδος", "ΟΔΟΣ").as_deref(), Some("ΟΔΟΣ"));
        assert!(label("ΟΔΟΣ*", "ΟΔΟΣΑ"));
        assert!(glob("ΟΔΟΣ*/**", "οδοσα/x.md"));
        assert!(ProjectPattern::parse("ΟΔΟΣ").unwrap().matches("οδοσ/x"));
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
