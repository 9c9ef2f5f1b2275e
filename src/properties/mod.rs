//! Property tests: the config parser, the snapshot reader, the rule engine and the period parser
//! meet generated input (arbitrary text, near-valid text, mutated real files) and must never
//! panic, must explain what they reject, and must give back what they accept.
//!
//! The case counts are modest so `cargo test` stays quick; `PROPTEST_CASES=20000 cargo test
//! --lib properties` runs every property that many times. The cargo-fuzz targets in `fuzz/`
//! drive the same entry points with coverage-guided input (`scripts/fuzz.sh`).

mod config;
mod period;
mod rules;
mod snapshot;

use proptest::prelude::*;
use proptest::test_runner::Config;

/// `default` cases, or `PROPTEST_CASES` when it is set.
pub(crate) fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Shrinking a failure is worth the time; a passing run should not wait on it.
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// Characters that trip text handling up: ASCII punctuation and separators the matchers treat
/// specially, control characters, combining marks, right-to-left overrides, letters whose case
/// mapping changes their length or depends on context (`İ`, `Σ`, `ß`, the Kelvin sign), emoji,
/// and anything else Unicode has.
pub(crate) fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        3 => prop::sample::select(vec![
            ' ', '-', '_', '/', ':', '*', '?', '#', '~', '"', '\'', '.', ',', '{', '}', '[', ']',
            '\\', '=', '\n', '\t', '\r', '\0', '\u{7f}', '\u{1b}',
        ]),
        2 => prop::sample::select(vec![
            'İ', 'ı', 'Σ', 'σ', 'ς', 'ß', 'ẞ', '\u{212a}', 'ǅ', 'Ω', 'é', '\u{301}', '\u{202e}',
            '\u{200b}', '\u{feff}', 'ﬀ', '😀', '中', 'Ⅻ', '٣', '²',
        ]),
        1 => any::<char>(),
    ]
}

/// A string of [`tricky_char`]s, `0..=max` characters long.
pub(crate) fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..=max).prop_map(|chars| chars.into_iter().collect())
}
