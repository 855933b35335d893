//! Package URLs (`pkg:type/namespace/name@version?qualifiers`), percent-encoded as the purl specification says:
//! everything but ASCII letters, digits and `.-_~` is encoded in each part, so `1:2.3+dfsg` becomes `1%3A2.3%2Bdfsg`.

/// A package URL of `purl_type`, with optional `namespace`, and `qualifiers` (empty values are left out; keys are
/// written sorted, as the specification requires).
pub(crate) fn package_url(
    purl_type: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<&str>)],
) -> String {
    let mut purl = format!("pkg:{purl_type}/");
    if let Some(namespace) = namespace.filter(|n| !n.is_empty()) {
        let segments: Vec<String> = namespace.split('/').map(encode).collect();
        purl.push_str(&segments.join("/"));
        purl.push('/');
    }
    purl.push_str(&encode(name));
    if !version.is_empty() {
        purl.push('@');
        purl.push_str(&encode(version));
    }
    let mut present: Vec<(&str, &str)> =
        qualifiers.iter().filter_map(|(key, value)| value.filter(|v| !v.is_empty()).map(|v| (*key, v))).collect();
    present.sort();
    for (i, (key, value)) in present.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(&encode(value));
    }
    purl
}

/// Percent-encodes all but the purl specification's unreserved characters.
fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_purl_specification() {
        assert_eq!(
            package_url(
                "deb",
                Some("debian"),
                "libc6",
                "2.36-9+deb12u4",
                &[("distro", Some("debian-12")), ("arch", Some("amd64"))]
            ),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            package_url("deb", Some("debian"), "tzdata", "1:2024a", &[("arch", None)]),
            "pkg:deb/debian/tzdata@1%3A2024a"
        );
        assert_eq!(package_url("npm", Some("@babel"), "core", "7.0.0", &[]), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(package_url("pypi", None, "requests", "2.31.0", &[]), "pkg:pypi/requests@2.31.0");
    }
}
