//! What a command hands back for printing: lines for a person and one JSON document for scripts, plus warnings.
//! Commands never print results themselves, so `--output json` always yields exactly one JSON document on stdout
//! and text mode one clear line per fact.

use serde_json::Value;

use super::args::OutputFormat;

/// A command's result.
#[derive(Debug, Default)]
pub struct Report {
    /// Lines for a person (stdout).
    pub lines: Vec<String>,
    /// The same facts for scripts.
    pub json: Value,
    /// Things a person should know that did not stop the command (stderr in text mode, `warnings` in JSON).
    pub warnings: Vec<String>,
    /// Raw bytes to write to stdout instead of lines (manifest fetch, blob fetch to stdout, completions).
    pub raw: Option<Vec<u8>>,
}

impl Report {
    /// A report with text lines and its JSON form.
    pub fn new(lines: Vec<String>, json: Value) -> Self {
        Report { lines, json, ..Report::default() }
    }

    /// A report of raw stdout bytes (with a JSON form for `--output json`).
    pub fn raw(bytes: Vec<u8>, json: Value) -> Self {
        Report { raw: Some(bytes), json, ..Report::default() }
    }

    /// Adds a warning.
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }

    /// Prints the report in `format`.
    pub fn print(self, format: OutputFormat) {
        use std::io::Write;
        match format {
            OutputFormat::Text => {
                for w in &self.warnings {
                    eprintln!("warning: {w}");
                }
                let mut stdout = std::io::stdout().lock();
                if let Some(raw) = &self.raw {
                    let _ = stdout.write_all(raw);
                } else {
                    for line in &self.lines {
                        let _ = writeln!(stdout, "{line}");
                    }
                }
                let _ = stdout.flush();
            }
            OutputFormat::Json => {
                let mut json = self.json;
                if !self.warnings.is_empty() {
                    if let Value::Object(map) = &mut json {
                        map.insert("warnings".into(), Value::from(self.warnings));
                    }
                }
                let text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| String::from("{}"));
                println!("{text}");
            }
        }
    }
}

/// Prints a failure: one line on stderr for a person, or a JSON document `{"error": ..., "kind": ...}` on stdout.
pub fn print_error(format: OutputFormat, kind: &str, message: &str, details: Option<Value>) {
    match format {
        OutputFormat::Text => eprintln!("nv2: {message}"),
        OutputFormat::Json => {
            let mut doc = serde_json::json!({ "error": message, "kind": kind });
            if let (Some(details), Value::Object(map)) = (details, &mut doc) {
                map.insert("details".into(), details);
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
}
