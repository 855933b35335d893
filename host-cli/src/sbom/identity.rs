//! Identifiers inside SBoM documents that must be stable for the same image: the SPDX `documentNamespace`, the
//! CycloneDX `serialNumber` (name-based UUIDs, version 5, RFC 9562) and SPDX element IDs.

use sha1::Digest as _;

/// The RFC 9562 URL namespace, under which nv2's names are hashed.
const URL_NAMESPACE: [u8; 16] =
    [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];

/// The version 5 UUID of `name` in the URL namespace, as lowercase hyphenated text.
pub(crate) fn uuid_v5(name: &str) -> String {
    let mut hasher = sha1::Sha1::new();
    hasher.update(URL_NAMESPACE);
    hasher.update(name.as_bytes());
    let hash = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = super::contents::hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// `text` reduced to the characters an SPDX ID may hold (`[A-Za-z0-9.-]`), others written as `-`.
pub(crate) fn spdx_id_part(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_matches_pythons_uuid5() {
        // Python's uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com") gives this value.
        assert_eq!(uuid_v5("https://example.com"), "4fd35a71-71ef-5a55-a9d9-aa75c889a6d0");
        assert_eq!(spdx_id_part("lib c6+x_y.z"), "lib-c6-x-y.z");
    }
}
