//! Certificate files as notation reads them: PEM with one or more `CERTIFICATE` blocks, or DER with one or more
//! certificates back to back. Text around PEM blocks is ignored (bundles often carry comments), as Go's PEM reader
//! does; a file that is neither yields an error.

use super::{Certificate, X509Error};
use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_LENGTH};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use base64ct::Encoding as _;
use der::Encode;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";

/// Largest file accepted: a full chain of the largest certificates, base64-expanded.
const MAX_FILE_BYTES: usize = MAX_CHAIN_LENGTH * MAX_CERTIFICATE_BYTES * 2;

/// Parses every certificate in a PEM or DER file. Empty input, garbage, a PEM block that is not a certificate, or
/// more than [`MAX_CHAIN_LENGTH`] certificates give an error.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(X509Error::TooLarge { what: "certificate file", size: bytes.len(), max: MAX_FILE_BYTES });
    }
    let certs = if find_begin(bytes).is_some() { parse_pem(bytes)? } else { parse_der(bytes)? };
    if certs.is_empty() {
        return Err(X509Error::NoCertificate);
    }
    Ok(certs)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A `-----BEGIN ` at the start of the input or of a line (Go's rule), so DER that happens to contain the marker
/// inside a field is not mistaken for PEM.
fn find_begin(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(BEGIN) {
        return Some(0);
    }
    let mut from = 0;
    while let Some(found) = bytes.get(from..).and_then(|rest| find(rest, BEGIN)) {
        let at = from + found;
        if at > 0 && bytes.get(at - 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn parse_pem(mut rest: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    let mut certs = Vec::new();
    while let Some(start) = find_begin(rest) {
        let block = rest.get(start + BEGIN.len()..).unwrap_or(&[]);
        let (label, der, used) = decode_block(block)?;
        if label != "CERTIFICATE" {
            return Err(X509Error::UnexpectedPemLabel(label));
        }
        if certs.len() == MAX_CHAIN_LENGTH {
            return Err(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH });
        }
        certs.push(Certificate::from_der(&der)?);
        rest = block.get(used..).unwrap_or(&[]);
    }
    Ok(certs)
}

/// Decodes one PEM block starting just after `-----BEGIN `, leniently like Go's `encoding/pem`: any line length,
/// CRLF or LF, optional `Key: value` headers (ignored). Returns the label, the DER and the bytes consumed.
fn decode_block(block: &[u8]) -> Result<(String, Vec<u8>, usize), X509Error> {
    let malformed = |reason: &str| X509Error::Malformed { what: "PEM certificate", reason: String::from(reason) };
    let label_end = find(block, b"-----").ok_or_else(|| malformed("unterminated BEGIN line"))?;
    let label = core::str::from_utf8(block.get(..label_end).unwrap_or(&[]))
        .ok()
        .filter(|l| !l.contains('\n') && l.len() <= 64)
        .ok_or_else(|| malformed("invalid label"))?;
    let body_start = label_end + 5;
    let body_and_rest = block.get(body_start..).unwrap_or(&[]);
    let end_line = [END, label.as_bytes(), b"-----"].concat();
    let body_len = find(body_and_rest, &end_line).ok_or_else(|| malformed("no matching END line"))?;
    let body = core::str::from_utf8(body_and_rest.get(..body_len).unwrap_or(&[]))
        .map_err(|_| malformed("body is not text"))?;
    // Headers (RFC 1421 style) end at the first blank line; only present when the first line has a colon.
    let mut lines = body.lines().map(str::trim).skip_while(|l| l.is_empty()).peekable();
    if lines.peek().is_some_and(|l| l.contains(':')) {
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
        }
    }
    let base64: String = lines.flat_map(str::chars).filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64ct::Base64::decode_vec(&base64).map_err(|_| malformed("invalid base64 body"))?;
    if der.is_empty() {
        return Err(malformed("empty body"));
    }
    Ok((String::from(label), der, body_start + body_len + end_line.len()))
}

fn parse_der(mut rest: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    let mut certs = Vec::new();
    while !rest.is_empty() {
        let malformed = |e: der::Error| X509Error::Malformed { what: "DER certificate", reason: format!("{e}") };
        let mut reader = der::SliceReader::new(rest).map_err(malformed)?;
        let header = <der::Header as der::Decode>::decode(&mut reader).map_err(malformed)?;
        let len = header.encoded_len().and_then(|h| h + header.length).and_then(usize::try_from).map_err(malformed)?;
        let one = rest.get(..len).ok_or_else(|| X509Error::Malformed {
            what: "DER certificate",
            reason: format!("truncated: {len} bytes announced, {} present", rest.len()),
        })?;
        if certs.len() == MAX_CHAIN_LENGTH {
            return Err(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH });
        }
        certs.push(Certificate::from_der(one)?);
        rest = rest.get(len..).unwrap_or(&[]);
    }
    Ok(certs)
}
