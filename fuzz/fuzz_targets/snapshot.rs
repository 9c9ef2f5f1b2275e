//! The snapshot reader: any text is read (and writes back the same) or rejected with a message;
//! a snapshot that is read classifies and renders in every format without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(snapshot) = gl_evidence::fuzzing::snapshot_text(text) {
        // Rendering is dear: only for snapshots of a reasonable size, which keeps the fuzzer fast.
        if snapshot.items.len() <= 64 {
            gl_evidence::fuzzing::classify_and_render(snapshot);
        }
    }
});
