//! Escaping for every output format, and the handlebars helpers the report templates use.
//!
//! Everything that comes from GitLab (titles, labels, project paths, even URLs) is untrusted: the
//! Markdown templates escape every `{{value}}` with [`escape_markdown`], the HTML templates with
//! [`escape_html`], and the helpers that emit markup themselves (`link`, `code`, `inline`) come in
//! a Markdown and an HTML flavour that sanitise their own input. CSV cells go through
//! [`csv_field`], which also defuses spreadsheet formulas.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderErrorReason,
};
use url::{Position, Url};

use crate::classify::Strength;

/// Bidirectional controls: overrides, embeddings, isolates and marks. They can make a title read
/// differently from what it is (a "Trojan Source" `invoice\u{202E}gpj.exe` shows as
/// `invoiceexe.jpg`), so no format writes them; the letters around them stay.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Escapes text so that it renders literally in GitLab Flavored Markdown.
///
/// The value stays on one line (control characters and line breaks become spaces), cannot open
/// links, emphasis, code, tables or raw HTML, and cannot create GitLab references or mentions
/// (`@user` in a pasted report would notify that person, `#12` would link an unrelated issue).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut chars = text.chars().peekable();
    // Block syntax (`- item`, `1. item`, `= heading`) only matters at the start of a value.
    let mut at_start = true;
    let mut leading_digits = true;
    while let Some(c) = chars.next() {
        let c = match c {
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => ' ',
            c if is_bidi_control(c) => continue,
            c => c,
        };
        let next_is_word = chars.peek().is_some_and(|n| !n.is_whitespace());
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => true,
            // GitLab reference sigils only act when something follows them.
            '@' | '!' | '$' | '~' | '%' | '&' => next_is_word,
            '-' | '+' | '=' => at_start,
            // `12. x` starts a list; `0.80` does not.
            '.' | ')' => leading_digits && !at_start && !next_is_word,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
        leading_digits = leading_digits && c.is_ascii_digit();
        at_start = false;
    }
    out
}

/// The URL in a form safe to use as a Markdown link destination, or `None` unless it is an
/// absolute http(s) URL (so `javascript:` and friends never become links).
pub fn safe_url(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    // `Url` already percent-encodes spaces, quotes and `<>`; these are the remaining characters
    // that could end the destination early or confuse a Markdown parser. The host part is left
    // alone: it is validated, and IPv6 literals need their brackets.
    let text = url.as_str();
    let split = url[..Position::BeforePath].len();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..split]);
    for c in text[split..].chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            '\'' => out.push_str("%27"),
            '`' => out.push_str("%60"),
            '\\' => out.push_str("%5C"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    Some(out)
}

/// `text` as a Markdown code span, fenced with more backticks than it contains; empty text gives
/// an empty string. GitLab creates no references or HTML inside code spans.
pub fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().is_empty() {
        return String::new();
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space keeps a leading or trailing backtick from merging with the fence.
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Escaped text in which `` `backticked` `` parts become code spans: for explanations such as
/// classify's reasons, which quote labels and paths that way. Each part is made safe on its own,
/// so unbalanced backticks from GitLab can only change what looks like code, never break out.
pub fn inline_markdown(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (n, part) in parts.iter().enumerate() {
        let quoted = n % 2 == 1;
        let closed = n + 1 < parts.len();
        if quoted && closed && !part.trim().is_empty() {
            out.push_str(&code_span(part));
        } else if quoted {
            // An unmatched or empty pair: keep the backticks as literal text.
            out.push_str(r"\`");
            out.push_str(&escape_markdown(part));
            if closed {
                out.push_str(r"\`");
            }
        } else {
            out.push_str(&escape_markdown(part));
        }
    }
    out
}

/// `[text](url)` when `url` is a safe http(s) URL; otherwise the text alone, followed by the URL
/// in a code span so a reader still sees where it pointed.
pub fn markdown_link(text: &str, url: &str) -> String {
    let shown = if text.trim().is_empty() { url } else { text };
    match safe_url(url) {
        Some(url) => format!("[{}]({url})", escape_markdown(shown)),
        None if url.trim().is_empty() || shown == url => escape_markdown(shown),
        None => format!("{} ({})", escape_markdown(shown), code_span(url)),
    }
}

/// Escapes text for HTML element content and quoted attribute values: the characters
/// handlebars escapes by default, minus the bidirectional overrides that can make a title read
/// differently from what it links to.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#x27;"),
            '`' => out.push_str("&#x60;"),
            '=' => out.push_str("&#x3D;"),
            c if is_bidi_control(c) => {}
            // Other control characters have no business in a report and some break email.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `<a href="url">text</a>` when `url` is a safe http(s) URL; otherwise the text alone, followed
/// by the URL in a `<code>` so a reader still sees where it pointed.
pub fn html_link(text: &str, url: &str) -> String {
    let shown = if text.trim().is_empty() { url } else { text };
    match safe_url(url) {
        Some(url) => format!(
            "<a href=\"{}\">{}</a>",
            escape_html(&url),
            escape_html(shown)
        ),
        None if url.trim().is_empty() || shown == url => escape_html(shown),
        None => format!("{} (<code>{}</code>)", escape_html(shown), escape_html(url)),
    }
}

/// Escaped HTML in which `` `backticked` `` parts become `<code>`, as [`inline_markdown`] does
/// for Markdown.
pub fn inline_html(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (n, part) in parts.iter().enumerate() {
        let quoted = n % 2 == 1;
        let closed = n + 1 < parts.len();
        if quoted && closed && !part.trim().is_empty() {
            out.push_str("<code>");
            out.push_str(&escape_html(part));
            out.push_str("</code>");
        } else {
            if quoted {
                out.push_str("&#x60;");
            }
            out.push_str(&escape_html(part));
            if quoted && closed {
                out.push_str("&#x60;");
            }
        }
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return
/// first, or `=`, `+`, `-`, `@` after leading spaces) gets a leading `'`, so a GitLab title
/// cannot become `=HYPERLINK(…)` in someone's spreadsheet. Line breaks and tabs stay (a note may
/// have several lines); other control characters (a lone CR too) become spaces and
/// bidirectional controls go.
/// Numbers are written by the caller, not through here.
pub fn csv_field(text: &str) -> String {
    let formula = |c: Option<char>| matches!(c, Some('=' | '+' | '-' | '@'));
    let guarded = matches!(text.chars().next(), Some('\t' | '\r'))
        || formula(text.chars().next())
        || formula(text.chars().find(|c| !c.is_whitespace()));
    let text: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let needs_quotes =
        guarded || text.contains([',', '"', '\n']) || text.starts_with(' ') || text.ends_with(' ');
    let mut out = String::with_capacity(text.len() + 3);
    if needs_quotes {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if needs_quotes {
        out.push('"');
    }
    out
}

/// Heatmap colours per strength: a light-to-dark blue scale, each with a text colour of at least
/// 6.5:1 contrast, so the letter in a cell stays readable and colour-blind readers can tell the
/// steps apart by lightness (and by the letter).
pub fn strength_colors(strength: Strength) -> (&'static str, &'static str) {
    match strength {
        Strength::Strong => ("#1e4f8a", "#ffffff"),
        Strength::Moderate => ("#6fa8dc", "#0a1f36"),
        Strength::Weak => ("#d6e6f5", "#0a1f36"),
        Strength::None => ("#f3f4f6", "#4b5563"),
    }
}

fn strength_param(h: &Helper<'_>) -> Strength {
    match h
        .param(0)
        .and_then(|p| p.value().as_str())
        .unwrap_or_default()
    {
        "strong" => Strength::Strong,
        "moderate" => Strength::Moderate,
        "weak" => Strength::Weak,
        _ => Strength::None,
    }
}

/// Registers the helpers of the Markdown templates.
pub(super) fn register(registry: &mut Handlebars<'_>) {
    registry.register_helper("link", Box::new(link_helper));
    registry.register_helper("code", Box::new(code_helper));
    registry.register_helper("inline", Box::new(inline_helper));
    register_common(registry);
}

/// Registers the helpers of the HTML templates: the same names, emitting HTML.
pub(super) fn register_html(registry: &mut Handlebars<'_>) {
    registry.register_helper("link", Box::new(html_link_helper));
    registry.register_helper("code", Box::new(html_code_helper));
    registry.register_helper("inline", Box::new(html_inline_helper));
    register_common(registry);
}

fn register_common(registry: &mut Handlebars<'_>) {
    registry.register_helper("join", Box::new(join_helper));
    registry.register_helper("plural", Box::new(plural_helper));
    registry.register_helper("fixed", Box::new(fixed_helper));
    registry.register_helper("strength_letter", Box::new(strength_letter_helper));
    registry.register_helper("strength_bg", Box::new(strength_bg_helper));
    registry.register_helper("strength_fg", Box::new(strength_fg_helper));
}

fn param_text(h: &Helper<'_>, index: usize) -> String {
    h.param(index)
        .map(|p| p.value().render())
        .unwrap_or_default()
}

fn require_params(h: &Helper<'_>, count: usize, usage: &str) -> Result<(), RenderErrorReason> {
    if h.params().len() < count {
        return Err(RenderErrorReason::Other(format!(
            "helper {:?} needs {count} argument(s): {usage}",
            h.name()
        )));
    }
    Ok(())
}

/// `{{link title url}}`: a Markdown link, written unescaped because it escapes its own parts.
fn link_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 2, "{{link TEXT URL}}")?;
    out.write(&markdown_link(&param_text(h, 0), &param_text(h, 1)))?;
    Ok(())
}

/// `{{code value}}`: an inline code span (not for table cells: a `|` inside still splits them).
fn code_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{code VALUE}}")?;
    out.write(&code_span(&param_text(h, 0)))?;
    Ok(())
}

/// `{{inline why}}`: escaped text with `` `backticked` `` parts as code spans.
fn inline_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{inline TEXT}}")?;
    out.write(&inline_markdown(&param_text(h, 0)))?;
    Ok(())
}

/// `{{link title url}}` in HTML templates: an `<a>` for http(s) URLs only, escaped.
fn html_link_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 2, "{{link TEXT URL}}")?;
    out.write(&html_link(&param_text(h, 0), &param_text(h, 1)))?;
    Ok(())
}

/// `{{code value}}` in HTML templates: `<code>` around the escaped value.
fn html_code_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{code VALUE}}")?;
    let text = param_text(h, 0);
    if !text.trim().is_empty() {
        out.write(&format!("<code>{}</code>", escape_html(&text)))?;
    }
    Ok(())
}

/// `{{inline why}}` in HTML templates: escaped text with `` `backticked` `` parts in `<code>`.
fn html_inline_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{inline TEXT}}")?;
    out.write(&inline_html(&param_text(h, 0)))?;
    Ok(())
}

/// `{{strength_letter strength}}`: S, M, W, or · for none — what a heatmap cell shows.
fn strength_letter_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{strength_letter STRENGTH}}")?;
    let letter = super::team_view::strength_letter(strength_param(h));
    write_value(r, rc, out, &letter.to_string())
}

/// `{{strength_bg strength}}`: the heatmap background colour, `#rrggbb`.
fn strength_bg_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{strength_bg STRENGTH}}")?;
    write_value(r, rc, out, strength_colors(strength_param(h)).0)
}

/// `{{strength_fg strength}}`: the text colour that goes with `strength_bg`.
fn strength_fg_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{strength_fg STRENGTH}}")?;
    write_value(r, rc, out, strength_colors(strength_param(h)).1)
}

/// `{{join list ", "}}`: the list's values joined, then escaped like any value.
fn join_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{join LIST SEPARATOR}}")?;
    let separator = h
        .param(1)
        .map(|p| p.value().render())
        .unwrap_or_else(|| ", ".to_string());
    let joined = match h.param(0).map(|p| p.value()) {
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .map(JsonRender::render)
            .collect::<Vec<_>>()
            .join(&separator),
        Some(other) => other.render(),
        None => String::new(),
    };
    write_value(r, rc, out, &joined)
}

/// `{{plural count "comment"}}` or `{{plural count "child" "children"}}`: the word that fits.
fn plural_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 2, "{{plural COUNT SINGULAR [PLURAL]}}")?;
    let count = h.param(0).and_then(|p| p.value().as_f64()).unwrap_or(0.0);
    let singular = param_text(h, 1);
    let word = if count == 1.0 {
        singular
    } else {
        h.param(2)
            .map(|p| p.value().render())
            .unwrap_or_else(|| format!("{singular}s"))
    };
    write_value(r, rc, out, &word)
}

/// `{{fixed score 2}}`: a number with a fixed count of decimals.
fn fixed_helper(
    h: &Helper<'_>,
    r: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    require_params(h, 1, "{{fixed NUMBER [DECIMALS]}}")?;
    let Some(number) = h.param(0).and_then(|p| p.value().as_f64()) else {
        return Ok(());
    };
    let decimals = h
        .param(1)
        .and_then(|p| p.value().as_u64())
        .unwrap_or(2)
        .min(6) as usize;
    write_value(r, rc, out, &format!("{number:.decimals$}"))
}

/// Writes a helper's text result through the registry's escape function, as `{{value}}` would.
fn write_value(
    r: &Handlebars<'_>,
    rc: &RenderContext<'_, '_>,
    out: &mut dyn Output,
    text: &str,
) -> HelperResult {
    let text = if rc.is_disable_escape() {
        text.to_string()
    } else {
        r.get_escape_fn()(text)
    };
    out.write(&text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_syntax_and_gitlab_references() {
        assert_eq!(
            escape_markdown("[x](javascript:alert(1)) <script>"),
            r"\[x\](javascript:alert(1)) \<script\>"
        );
        assert_eq!(
            escape_markdown("a_b *c* `d` |e| \\"),
            r"a\_b \*c\* \`d\` \|e\| \\"
        );
        assert_eq!(
            escape_markdown("# heading\nnext\r\tline"),
            r"\# heading next  line"
        );
        assert_eq!(
            escape_markdown("thanks @alice for !12 and #3"),
            r"thanks \@alice for \!12 and \#3"
        );
        assert_eq!(
            escape_markdown("~5 s, 20% faster, Q&A, $HOME"),
            r"\~5 s, 20% faster, Q\&A, \$HOME"
        );
        assert_eq!(escape_markdown("- not a list"), r"\- not a list");
        assert_eq!(escape_markdown("12. not a list"), r"12\. not a list");
        assert_eq!(escape_markdown("12."), r"12\.");
        assert_eq!(escape_markdown("0.80"), "0.80");
        assert_eq!(escape_markdown("v1.2 a-b"), "v1.2 a-b");
        assert_eq!(escape_markdown("evil\u{202E}txt"), "eviltxt");
        assert_eq!(
            escape_markdown("\u{2066}a\u{2069}\u{200F}b\u{200E}\u{61C}"),
            "ab"
        );
        assert_eq!(
            escape_markdown("Runbook: add alerts :fire:"),
            "Runbook: add alerts :fire:"
        );
    }

    #[test]
    fn only_http_urls_become_links() {
        assert_eq!(
            markdown_link("t", "https://gitlab.example.com/a/b/-/merge_requests/1"),
            "[t](https://gitlab.example.com/a/b/-/merge_requests/1)"
        );
        assert_eq!(
            markdown_link("t", "javascript:alert(1)"),
            "t (`javascript:alert(1)`)"
        );
        assert_eq!(
            markdown_link("t", "data:text/html,<b>x</b>"),
            "t (`data:text/html,<b>x</b>`)"
        );
        assert_eq!(markdown_link("t", "/relative/path"), "t (`/relative/path`)");
        assert_eq!(markdown_link("t", ""), "t");
        assert_eq!(
            markdown_link("x", "https://h.example/a b)(c[d]\"'`"),
            "[x](https://h.example/a%20b%29%28c%5Bd%5D%22%27%60)"
        );
        assert_eq!(
            markdown_link("", "https://h.example/"),
            r"[https://h.example/](https://h.example/)"
        );
    }

    #[test]
    fn backticked_parts_become_code_spans() {
        assert_eq!(
            inline_markdown("labelled `Community contribution`: helps <b>"),
            r"labelled `Community contribution`: helps \<b\>"
        );
        assert_eq!(inline_markdown("path `a*b` and `c"), r"path `a*b` and \`c");
        assert_eq!(inline_markdown("empty `` pair"), r"empty \`\` pair");
        assert_eq!(inline_markdown("no ticks_here"), r"no ticks\_here");
    }

    #[test]
    fn html_escaping_and_links() {
        assert_eq!(
            escape_html("<script>alert(1)</script> \"a\" 'b' `c` d=e & f"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;a&quot; &#x27;b&#x27; &#x60;c&#x60; d&#x3D;e &amp; f"
        );
        assert_eq!(escape_html("evil\u{202E}txt\u{0}"), "eviltxt ");
        assert_eq!(
            html_link("a<b>", "https://h.example/x?y=1&z=\"2\""),
            "<a href=\"https://h.example/x?y&#x3D;1&amp;z&#x3D;%222%22\">a&lt;b&gt;</a>"
        );
        assert_eq!(
            html_link("t", "javascript:alert(1)"),
            "t (<code>javascript:alert(1)</code>)"
        );
        assert_eq!(
            html_link("\"><img src=x onerror=alert(1)>", "data:text/html,x"),
            "&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; (<code>data:text/html,x</code>)"
        );
        assert_eq!(html_link("t", ""), "t");
        assert_eq!(
            inline_html("labelled `a<b>` and `c"),
            "labelled <code>a&lt;b&gt;</code> and &#x60;c"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+2"), "\"'=1+2\"");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://evil\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        for formula in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                csv_field(formula).starts_with("\"'"),
                "{formula:?} -> {}",
                csv_field(formula)
            );
        }
        assert_eq!(csv_field("a-b"), "a-b", "only a leading sign is a formula");
        assert_eq!(
            csv_field("  =1"),
            "\"'  =1\"",
            "spaces do not hide a formula"
        );
        assert_eq!(csv_field("\r=1"), "\"' =1\"");
        assert_eq!(
            csv_field("a\u{7}b\u{202E}c\r\nd\u{85}"),
            "\"a bc\nd \"",
            "no control or bidi character is written raw"
        );
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code_span("rule-1"), "`rule-1`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span("line\nbreak"), "`line break`");
        assert_eq!(code_span("a\u{202E}b"), "`ab`");
        assert_eq!(code_span(""), "");
    }
}
