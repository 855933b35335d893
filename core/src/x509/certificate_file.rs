//! Certificate files as notation reads them: PEM with one or more `CERTIFICATE` blocks, or DER with one or more
//! certificates back to back. Text around PEM blocks is ignored (bundles often carry comments), as Go's PEM reader
//! does; a file that is neither yields an error.

use super::{Certificate, X509Error};
use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_LENGTH};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
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
    let certs = if find(bytes, BEGIN).is_some() { parse_pem(bytes)? } else { parse_der(bytes)? };
    if certs.is_empty() {
        return Err(X509Error::NoCertificate);
    }
    Ok(certs)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_pem(mut rest: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    let mut certs = Vec::new();
    while let Some(start) = find(rest, BEGIN) {
        let block = rest.get(start..).unwrap_or(&[]);
        let malformed = |reason: String| X509Error::Malformed { what: "PEM certificate", reason };
        let end_marker = find(block, END).ok_or_else(|| malformed(String::from("BEGIN without END")))?;
        // The END line runs to the next "-----" after "-----END <label>".
        let after_end = block.get(end_marker + END.len()..).unwrap_or(&[]);
        let close = find(after_end, b"-----").ok_or_else(|| malformed(String::from("unterminated END line")))?;
        let block_len = end_marker + END.len() + close + 5;
        let pem = block.get(..block_len).unwrap_or(&[]);
        let (label, der) = der::pem::decode_vec(pem).map_err(|e| malformed(format!("{e}")))?;
        if label != "CERTIFICATE" {
            return Err(X509Error::UnexpectedPemLabel(String::from(label)));
        }
        if certs.len() == MAX_CHAIN_LENGTH {
            return Err(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH });
        }
        certs.push(Certificate::from_der(&der)?);
        rest = block.get(block_len..).unwrap_or(&[]);
    }
    Ok(certs)
}

fn parse_der(mut rest: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    let mut certs = Vec::new();
    while !rest.is_empty() {
        let malformed = |e: der::Error| X509Error::Malformed { what: "DER certificate", reason: format!("{e}") };
        let mut reader = der::SliceReader::new(rest).map_err(malformed)?;
        let header = <der::Header as der::Decode>::decode(&mut reader).map_err(malformed)?;
        let len = header.encoded_len().and_then(|h| h + header.length).and_then(usize::try_from).map_err(malformed)?;
        let one = rest.get(..len).ok_or_else(|| {
            malformed(der::ErrorKind::Incomplete { expected_len: header.length, actual_len: der::Length::ZERO }.into())
        })?;
        if certs.len() == MAX_CHAIN_LENGTH {
            return Err(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH });
        }
        certs.push(Certificate::from_der(one)?);
        rest = rest.get(len..).unwrap_or(&[]);
    }
    Ok(certs)
}
