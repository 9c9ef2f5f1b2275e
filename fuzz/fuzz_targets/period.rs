//! The period parser. The input is three lines: `--quarter`, `--from` and `--to`; the first
//! byte also picks the fiscal year's start month (0 to 13, out of range included). Accepted
//! periods survive the harvest's date arithmetic and read back from their printed form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let month = u32::from(text.bytes().next().unwrap_or(0) % 14);
    let mut lines = text.splitn(3, '\n');
    let quarter = lines.next().unwrap_or("");
    let from = lines.next().unwrap_or("");
    let to = lines.next().unwrap_or("");
    gl_evidence::fuzzing::quarter(quarter, month);
    gl_evidence::fuzzing::quarter(quarter, 2);
    gl_evidence::fuzzing::dates(from, to);
});
