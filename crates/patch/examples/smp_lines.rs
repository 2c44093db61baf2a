//! Applies strategic merge patches read as JSON lines `{"definition", "original", "patch"}` from
//! stdin and prints one JSON line per input: `{"ok": result}` or `{"error": message}`. Used to
//! compare the engine with `kubectl patch --local` on generated cases.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(case) => {
                let definition = case["definition"].as_str().unwrap_or_default();
                match patch::strategic_merge_patch(&case["original"], &case["patch"], definition) {
                    Ok(v) => json!({"ok": v}),
                    Err(e) => json!({"error": e.to_string()}),
                }
            }
            Err(e) => json!({"error": format!("bad input line: {e}")}),
        };
        writeln!(out, "{answer}")?;
    }
    Ok(())
}
