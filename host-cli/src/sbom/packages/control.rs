//! `Key: value` blocks with indented continuation lines: Debian control stanzas (dpkg `status`) and Python core
//! metadata headers share this shape.

/// The fields of one block, in order; keys as written, values with continuation lines joined by `\n`.
pub(crate) fn fields(block: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// The value of the first field named `key` (case-insensitive, as RFC 822 headers are).
pub(crate) fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
}

/// Blocks separated by blank lines.
pub(crate) fn blocks(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut current = String::new();
    let mut lines = text.lines().chain(std::iter::once(""));
    std::iter::from_fn(move || {
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                if !current.trim().is_empty() {
                    return Some(std::mem::take(&mut current));
                }
                current.clear();
            } else {
                current.push_str(line);
                current.push('\n');
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_with_continuations_and_blocks() {
        let text = "Package: a\nDescription: one\n two\n\n\nPackage: b\n";
        let all: Vec<String> = blocks(text).collect();
        assert_eq!(all.len(), 2);
        let first = fields(&all[0]);
        assert_eq!(field(&first, "package"), Some("a"));
        assert_eq!(field(&first, "Description"), Some("one\ntwo"));
        assert_eq!(field(&fields(&all[1]), "Package"), Some("b"));
    }
}
