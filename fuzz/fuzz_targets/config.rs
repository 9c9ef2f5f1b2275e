//! The config file parser: any text is read (and writes back the same) or rejected with a
//! message naming the file and the key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    gl_evidence::fuzzing::config_text(text);
});
