#!/usr/bin/env bash
# Browser check for the team HTML report: renders the bundled six-person sample team
# (data/demo/team-snapshot.json, compared with team-snapshot-previous.json) and opens it in
# headless Chromium. Fails unless
#   - the file is self-contained: no script, no <link>, no @import, no url(), no remote src;
#   - Chromium logs no console message and the page requests nothing over the network
#     (all host names resolve to nothing, and the net log is checked for page requests);
#   - the rendered DOM holds the heatmap: one row per person, one cell per competency;
#   - a screenshot is far from blank: many distinct colours, the heatmap's among them.
# The same checks run on the report as `gl-evidence report --kind team --format html` writes it.
# The screenshot (1280×2000) is saved to docs/team-report.png.
#
# Needs cargo, python3 and Chromium (Debian: apt-get install -y chromium); CHROMIUM=/path/to/it
# picks another binary. Outputs go to target/browser-check/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/browser-check
mkdir -p "$out" docs
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$chromium" ]; then
    echo "browser-check: Chromium not found; install it (apt-get install -y chromium) or set CHROMIUM" >&2
    exit 2
fi
people=6

echo "== rendering the sample team report"
# As the `team` command renders it: confidential items left out, compared with the quarter before.
SAMPLE_TEAM_HTML="$PWD/$out/sample-team.html" \
    cargo test --quiet --lib report::team_tests::write_sample_team_html -- --ignored --exact >/dev/null
# As a new user would render the same snapshot by hand. Exit code 3 says the snapshot records a
# partial source, which the sample does on purpose.
status=0
cargo run --quiet -- report data/demo/team-snapshot.json --kind team --format html \
    --out "$out/cli-team.html" 2>/dev/null || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    echo "browser-check: gl-evidence report failed (exit $status)" >&2
    exit 1
fi
competencies=$(cargo run --quiet -- framework --format json |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["competencies"]))')

# Runs headless Chromium on a file with the network cut off; extra flags first.
chromium_run() {
    local profile status
    profile=$(mktemp -d)
    status=0
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --host-resolver-rules="MAP * ~NOTFOUND" \
        --enable-logging=stderr --v=0 "$@" || status=$?
    rm -rf "$profile"
    return "$status"
}

check() {
    local name=$1 html=$2 screenshot=$3
    local url="file://$PWD/$html"
    echo "== checking $html"
    chromium_run --log-net-log="$out/$name.netlog.json" --dump-dom "$url" \
        >"$out/$name.dom.html" 2>"$out/$name.console.log"
    chromium_run --hide-scrollbars --window-size=1280,2000 --screenshot="$out/$name.png" "$url" \
        >/dev/null 2>>"$out/$name.console.log"
    python3 - "$html" "$out/$name.dom.html" "$out/$name.console.log" "$out/$name.netlog.json" \
        "$out/$name.png" "$people" "$competencies" <<'PY'
import json, re, struct, sys, zlib
from html.parser import HTMLParser

html_path, dom_path, console_path, netlog_path, png_path = sys.argv[1:6]
people, competencies = int(sys.argv[6]), int(sys.argv[7])
failures = []

# 1. Self-contained: nothing to run, nothing to fetch.
source = open(html_path, encoding="utf-8").read().lower()
for banned in ["<script", "<link", "@import", "url(", "<iframe", "<object", "<embed", "<img"]:
    if banned in source:
        failures.append(f"{html_path} contains {banned!r}")
if re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", source):
    failures.append(f"{html_path} loads a remote resource")

# 2. No console message (errors, uncaught exceptions, blocked loads).
console = [l for l in open(console_path, encoding="utf-8", errors="replace") if ":CONSOLE" in l or "Uncaught" in l]
failures += [f"console: {l.strip()}" for l in console]

# 3. No request from the page itself (Chromium's own background requests are not the page's).
netlog = json.load(open(netlog_path))
types = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
for event in netlog["events"]:
    params = event.get("params", {})
    if types.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in params.get("network_isolation_key", "") \
            and not params.get("url", "").startswith("file:"):
        failures.append(f"the page requested {params['url']}")

# 4. The rendered DOM holds the heatmap: a row per person, a cell per competency.
class Heatmap(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.in_body, self.rows = 0, False, []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            if self.depth or "heatmap" in (attrs.get("class") or "").split():
                self.depth += 1
        elif self.depth == 1 and tag == "tbody":
            self.in_body = True
        elif self.depth == 1 and self.in_body and tag == "tr":
            self.rows.append(0)
        elif self.depth == 1 and self.in_body and tag == "td" and "cell" in (attrs.get("class") or "").split():
            self.rows[-1] += 1
    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "tbody":
            self.in_body = False
parser = Heatmap()
parser.feed(open(dom_path, encoding="utf-8").read())
if len(parser.rows) != people:
    failures.append(f"heatmap has {len(parser.rows)} rows in the DOM, expected {people}")
if any(cells != competencies for cells in parser.rows):
    failures.append(f"heatmap rows have {parser.rows} cells, expected {competencies} each")

# 5. The screenshot is not blank, and the heatmap's colours are on it.
def read_png(path):
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and ctype in (2, 6), "8-bit RGB(A) expected"
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, i, pixels = zlib.decompress(idat), width * bpp, bytearray(width * bpp), 0, []
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(bytes(line[x:x + 3]) for x in range(0, stride, bpp))
        prev = line
    return width, height, pixels
width, height, pixels = read_png(png_path)
counts = {}
for p in pixels:
    counts[p] = counts.get(p, 0) + 1
non_white = 1 - counts.get(b"\xff\xff\xff", 0) / len(pixels)
heat = {name: counts.get(bytes.fromhex(hexcolour), 0)
        for name, hexcolour in [("strong", "1e4f8a"), ("moderate", "6fa8dc"), ("weak", "d6e6f5")]}
print(f"   screenshot {width}x{height}: {len(counts)} distinct colours, {non_white:.0%} non-white, "
      f"heatmap pixels {heat}; heatmap rows {parser.rows}")
if len(counts) < 50 or non_white < 0.05:
    failures.append("the screenshot looks blank")
if min(heat.values()) < 200:
    failures.append(f"the heatmap colours are missing from the screenshot: {heat}")

for f in failures:
    print(f"   FAIL {f}")
sys.exit(1 if failures else 0)
PY
    if [ -n "$screenshot" ]; then
        cp "$out/$name.png" "$screenshot"
        echo "   screenshot saved to $screenshot"
    fi
}

check sample "$out/sample-team.html" docs/team-report.png
check cli "$out/cli-team.html" ""
echo "browser check passed"
