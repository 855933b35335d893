//! Parsing the value syntaxes flags share: `key=value` pairs, durations like `12h`, and `path[:media-type]` file
//! arguments. Each returns a message naming the bad value, which the CLI prints as one line.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Parses repeated `key=value` flags; keys must be unique and non-empty.
pub fn key_values(flag: &str, values: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for value in values {
        let (key, val) = value.split_once('=').ok_or_else(|| format!("{flag} {value:?}: expected key=value"))?;
        if key.is_empty() {
            return Err(format!("{flag} {value:?}: the key is empty"));
        }
        if map.insert(key.to_string(), val.to_string()).is_some() {
            return Err(format!("{flag}: key {key:?} is given twice"));
        }
    }
    Ok(map)
}

/// Parses a duration of whole seconds: a number followed by `s`, `m`, `h` or `d`, or several (`1h30m`).
pub fn duration_seconds(text: &str) -> Result<i64, String> {
    let bad = || format!("duration {text:?}: expected e.g. 30m, 12h, 7d or 1h30m");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    if !number.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

/// A file argument `path[:media-type]`; the media type defaults to `default_media_type`.
pub fn file_with_media_type(value: &str, default_media_type: &str) -> (PathBuf, String) {
    // A media type always contains '/', a Windows drive letter never does: split at the last ':' only then.
    match value.rsplit_once(':') {
        Some((path, media_type)) if media_type.contains('/') && !path.is_empty() => {
            (PathBuf::from(path), media_type.to_string())
        }
        _ => (PathBuf::from(value), default_media_type.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("30m"), Ok(1800));
        assert_eq!(duration_seconds("1h30m"), Ok(5400));
        assert_eq!(duration_seconds("7d"), Ok(604_800));
        for bad in ["", "12", "h", "-1h", "1.5h", "0s", "99999999999999999999d"] {
            assert!(duration_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs() {
        let map = key_values("-m", &["a=1".into(), "b=x=y".into()]).unwrap();
        assert_eq!(map.get("b").map(String::as_str), Some("x=y"));
        assert!(key_values("-m", &["novalue".into()]).is_err());
        assert!(key_values("-m", &["=v".into()]).is_err());
        assert!(key_values("-m", &["a=1".into(), "a=2".into()]).is_err());
    }

    #[test]
    fn file_arguments() {
        assert_eq!(file_with_media_type("sbom.json:application/spdx+json", "x/y").1, "application/spdx+json");
        assert_eq!(file_with_media_type("a:b", "x/y"), (PathBuf::from("a:b"), "x/y".to_string()));
        assert_eq!(file_with_media_type("plain", "x/y").0, PathBuf::from("plain"));
    }
}
