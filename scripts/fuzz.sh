#!/usr/bin/env bash
# Fuzzes gl-evidence's parsers with cargo-fuzz (libFuzzer): the config file, snapshots, rules
# with the items they judge, and periods. Each target runs for a fixed time; a crash (a panic,
# or a property of src/fuzzing.rs that fails) stops it and leaves the input under
# fuzz/artifacts/TARGET/.
#
#   scripts/fuzz.sh                 # every target, 60 s each
#   scripts/fuzz.sh 600             # every target, 10 minutes each
#   scripts/fuzz.sh 30 rules period # some targets
#   scripts/fuzz.sh --check         # only compile the targets (stable Rust is enough)
#
# Running needs nightly Rust and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# The property tests (`cargo test --lib properties`) check the same properties on stable.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(config snapshot rules period)

if [[ "${1:-}" == "--check" ]]; then
  # Type-checks the targets against the library; libFuzzer itself is only linked by cargo-fuzz.
  exec cargo check --manifest-path fuzz/Cargo.toml --bins
fi

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: the time per target must be a whole number of seconds, got '$seconds'" >&2
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: ${all_targets[*]})" >&2
  exit 2
fi
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=("${all_targets[@]}")
fi
for target in "${targets[@]}"; do
  if ! [[ " ${all_targets[*]} " == *" $target "* ]]; then
    echo "error: unknown fuzz target '$target' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "error: fuzzing needs nightly Rust, which is not installed: rustup toolchain install nightly" >&2
  echo "  (scripts/fuzz.sh --check compiles the targets on stable; cargo test runs the property tests)" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "error: fuzzing needs cargo-fuzz, which is not installed: cargo install cargo-fuzz" >&2
  echo "  (scripts/fuzz.sh --check compiles the targets on stable; cargo test runs the property tests)" >&2
  exit 2
fi

# Seed corpora from the project's own files, so the fuzzers start from real inputs.
seed() {
  local target=$1 name=$2
  mkdir -p "fuzz/corpus/$target"
  cat > "fuzz/corpus/$target/seed-$name"
}
seed config example < config.example.toml
printf '[harvest]\nconcurrency = 3\n[classify.weights]\nproposal = 0.9\n' | seed config small
seed snapshot demo < data/demo/snapshot.json
{ cat data/rules/default.toml; printf '\n%%%%\n'; cat fuzz/seeds/items.json; } | seed rules default
printf '2026Q3\n2026-07-01\n2026-09-30' | seed period calendar
printf 'FY27-Q3\n2026-08-01\n2026-10-31' | seed period fiscal

# Build once, outside the time budget; debug assertions on, so overflows count as crashes. No
# AddressSanitizer by default: the code is safe Rust, a panic or a failed property is what is
# looked for, and ASan made the rule engine a hundred times slower (FUZZ_SANITIZER=address
# turns it back on).
sanitizer="${FUZZ_SANITIZER:-none}"
fuzz=(cargo +nightly fuzz)
if ! "${fuzz[@]}" build --sanitizer "$sanitizer" --debug-assertions >fuzz/build.log 2>&1; then
  tail -n 30 fuzz/build.log >&2
  echo "error: the fuzz targets do not build (full log in fuzz/build.log)" >&2
  exit 1
fi

summary=()
failed=0
for target in "${targets[@]}"; do
  echo "== fuzzing $target for $seconds s"
  log="fuzz/target/fuzz-$target.log"
  status=ok
  if ! "${fuzz[@]}" run --sanitizer "$sanitizer" --debug-assertions "$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1; then
    status="CRASH (input in fuzz/artifacts/$target/, log in $log)"
    failed=1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1 || true)
  corpus=$(grep -Eo 'corp: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || true)
  coverage=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || true)
  summary+=("$(printf '%-9s %10s runs  %6s corpus  %6s coverage  %s' "$target" "${runs:-?}" "${corpus:-?}" "${coverage:-?}" "$status")")
  if [[ $status != ok ]]; then
    grep -E 'panicked at|ERROR: libFuzzer|Test unit written' "$log" | head -n 5 >&2 || true
  fi
done

echo
echo "fuzzing, $seconds s per target:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
