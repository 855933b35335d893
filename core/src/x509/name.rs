//! Distinguished names rendered the way notation sees them.
//!
//! notation matches trusted identities against Go's `pkix.Name.String()` of the leaf subject. That rendering knows
//! nine short names (C, O, OU, CN, SERIALNUMBER, L, ST, STREET, POSTALCODE), lists them in a fixed order, keeps only
//! the last CN and SERIALNUMBER, and writes every other attribute as `<dotted OID>=#<hex DER>` (which an LDAP DN
//! parser decodes back to the string). We reproduce both the string and the attribute list behind it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use der::{Encode, Tag, Tagged};
use x509_cert::name::Name;

/// Go's short names, in the order Go emits its RDNs before reversing them for display
/// (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER).
const GO_ORDER: [(&str, &str); 9] = [
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
];

/// Types Go keeps as a single value (the last one wins).
const SINGLE_VALUED: [&str; 2] = ["CN", "SERIALNUMBER"];

/// One relative distinguished name as rendered: `(type, value, is_hex)` entries joined with `+`.
type Rdn = Vec<(String, String, bool)>;

/// Decodes a directory string value the way Go's parser does; `None` for non-string types.
fn string_value(value: &der::Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::NumericString => {
            core::str::from_utf8(bytes).ok().map(String::from)
        }
        // T.61 is treated as ISO-8859-1, as Go does.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        _ => None,
    }
}

/// The RDNs of `name` in Go's display order (already reversed).
fn go_rdns(name: &Name) -> Vec<Rdn> {
    let mut extra: Vec<Rdn> = Vec::new();
    let mut known: Vec<Vec<String>> = GO_ORDER.iter().map(|_| Vec::new()).collect();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            let oid = atv.oid.to_string();
            match GO_ORDER.iter().position(|(o, _)| *o == oid) {
                Some(slot) => {
                    // Go drops non-string values of the known types.
                    if let (Some(v), Some(values)) = (string_value(&atv.value), known.get_mut(slot)) {
                        values.push(v);
                    }
                }
                None => {
                    let (text, hex) = match string_value(&atv.value) {
                        Some(s) => (s, false),
                        None => (hex_der(&atv.value), true),
                    };
                    extra.push(alloc::vec![(oid, text, hex)]);
                }
            }
        }
    }
    let mut rdns = extra;
    for ((_, short), mut values) in GO_ORDER.iter().zip(known) {
        if SINGLE_VALUED.contains(short) && values.len() > 1 {
            values = values.split_off(values.len() - 1);
        }
        if !values.is_empty() {
            rdns.push(values.into_iter().map(|v| (String::from(*short), v, false)).collect());
        }
    }
    rdns.reverse();
    rdns
}

fn hex_der(value: &der::Any) -> String {
    let der = value.to_der().unwrap_or_default();
    der.iter().map(|b| format!("{b:02x}")).collect()
}

/// The attributes of `name` as `(type, value)` pairs, in display order. Types are Go's short names or dotted OIDs
/// (for example emailAddress appears as `1.2.840.113549.1.9.1`); a type listed twice means notation would refuse
/// the name for identity matching (it does not accept multi-valued or repeated attributes).
pub(crate) fn attributes(name: &Name) -> Vec<(String, String)> {
    go_rdns(name).into_iter().flatten().map(|(t, v, _)| (t, v)).collect()
}

/// RFC 4514 rendering identical to Go's `pkix.Name.String()`.
pub(crate) fn display(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in go_rdns(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, (t, v, is_hex)) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(t);
            out.push('=');
            if *is_hex {
                out.push('#');
                out.push_str(v);
            } else if GO_ORDER.iter().any(|(_, short)| short == t) {
                escape_into(&mut out, v);
            } else {
                // Go writes the other types as `#` + hex of the value re-marshalled as a Go string.
                out.push('#');
                out.push_str(&go_marshalled_hex(v));
            }
        }
    }
    out
}

/// Go's `asn1.Marshal` of a string: PrintableString when every character is printable (no `*` or `&`), else
/// UTF8String; returned as lowercase hex of the DER.
fn go_marshalled_hex(value: &str) -> String {
    let der = match der::asn1::PrintableStringRef::new(value) {
        Ok(printable) => printable.to_der(),
        Err(_) => der::asn1::Utf8StringRef::new(value).and_then(|s| s.to_der()),
    }
    .unwrap_or_default();
    der.iter().map(|b| format!("{b:02x}")).collect()
}

fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (k, c) in value.chars().enumerate() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}
