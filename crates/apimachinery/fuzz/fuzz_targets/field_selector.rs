//! Fuzzes `apimachinery::invariants::field_selector`: no panic, and the round trip holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Err(e) = apimachinery::invariants::field_selector(s)
    {
        panic!("invariant broken: {e}");
    }
});
