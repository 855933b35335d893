//! Runs every `certificate` and `revocation` case of the Notary Project fixture corpus
//! (`shared/fixtures/notation/cases.json`) through this module and compares with the expected verdict.

extern crate std;

use super::*;
use crate::time::Timestamp;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;
use std::path::PathBuf;

pub(super) use crate::fixtures::corpus_dir;

pub(super) fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn cases(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_slice(&read("cases.json")).unwrap();
    all["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).cloned().collect()
}

fn verify_at(case: &Value) -> Option<Timestamp> {
    case["verify_at"].as_str().map(|t| Timestamp::parse_rfc3339(t).unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// Runs one certificate case; `Ok` means "valid".
fn run_certificate_case(case: &Value) -> Result<(), String> {
    let files = strings(&case["files"]);
    let at = verify_at(case);
    let e = |e: X509Error| alloc::format!("{e}");
    match case["check"].as_str().unwrap() {
        "read-certificate-file" => {
            let certs = parse_certificates(&read(&files[0])).map_err(e)?;
            let want = case["count"].as_u64().unwrap() as usize;
            if certs.len() != want {
                return Err(alloc::format!("{} certificates, expected {want}", certs.len()));
            }
            Ok(())
        }
        check @ ("codesigning-chain" | "timestamping-chain") => {
            let mut chain = Vec::new();
            for f in strings(&case["chain"]) {
                chain.extend(parse_certificates(&read(&f)).map_err(e)?);
            }
            let purpose =
                if check == "codesigning-chain" { ChainPurpose::CodeSigning } else { ChainPurpose::Timestamping };
            validate_chain(&chain, purpose, at).map_err(e)
        }
        "trust-store-load" => {
            let kind: TrustStoreKind = case["store"]["type"].as_str().unwrap().parse().map_err(e)?;
            let dir = corpus_dir().join(case["store"]["dir"].as_str().unwrap());
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|d| d.unwrap().path()).collect();
            paths.sort();
            let mut loaded = 0;
            for path in paths {
                let certs = parse_certificates(&std::fs::read(&path).unwrap()).map_err(e)?;
                for cert in &certs {
                    check_trust_store_certificate(cert, kind).map_err(e)?;
                }
                loaded += certs.len();
            }
            if loaded == 0 {
                return Err(String::from("empty store"));
            }
            Ok(())
        }
        "tsa-root-certificate-file" => check_tsa_root_file(&read(&files[0])).map(|_| ()).map_err(e),
        "signing-key-pair" => {
            let cert = parse_certificates(&read(&files[1])).map_err(e)?.remove(0);
            check_signing_key_pair(&read(&files[0]), &cert, at.unwrap()).map_err(e)
        }
        "certificate-validity" => {
            let cert = parse_certificates(&read(&files[0])).map_err(e)?.remove(0);
            if cert.is_valid_at(at.unwrap()) {
                Ok(())
            } else {
                Err(String::from("outside validity"))
            }
        }
        other => panic!("unknown check {other}"),
    }
}

#[test]
fn every_certificate_case_gives_the_expected_verdict() {
    let cases = cases("certificate");
    assert_eq!(cases.len(), 29, "corpus changed");
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run_certificate_case(case);
        let valid = outcome.is_ok();
        let expected = case["expect"] == "valid";
        std::println!("{:45} expect {:7} got {:?}", case["id"].as_str().unwrap(), case["expect"], outcome);
        if valid != expected {
            failures.push(alloc::format!("{}: {outcome:?}", case["id"]));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_revocation_case_gives_the_expected_result() {
    let cases = cases("revocation");
    assert_eq!(cases.len(), 4, "corpus changed");
    for case in &cases {
        let at = verify_at(case).unwrap();
        let chain = parse_certificates(&read(case["chain"].as_str().unwrap())).unwrap();
        assert_eq!(chain.len(), 3);
        // The chain itself is a valid code-signing chain ending at the trusted root.
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(at)).unwrap();
        let root_file = case["trust"]["stores"]["ca:e2e"][0].as_str().unwrap();
        let root = parse_certificates(&read(root_file)).unwrap().remove(0);
        assert_eq!(chain.last(), Some(&root));

        let responses = case["crl_responses"].as_object().unwrap().clone();
        let fetch = move |url: &str| responses.get(url).map(|f| read(f.as_str().unwrap()));
        let report = check_chain_revocation(&chain, &fetch, at);
        std::println!("{:30} {:?}", case["id"].as_str().unwrap(), report.status);
        let got = match &report.status {
            RevocationStatus::Good => "ok",
            RevocationStatus::Revoked { .. } => "revoked",
            RevocationStatus::Unknown { .. } => "unknown",
        };
        assert_eq!(got, case["revocation_result"], "{}: {report:#?}", case["id"]);
        assert_eq!(case["expect"] == "valid", got == "ok");
        assert_eq!(report.certificates.len(), 3);
        assert_eq!(report.certificates[2].status, CertificateStatus::NonRevocable);
    }
}

#[test]
fn fixture_certificates_render_and_fingerprint_like_notation() {
    let e2e = parse_certificates(&read("certs/notation-e2e/localkeys/e2e.crt")).unwrap().remove(0);
    assert_eq!(e2e.subject_string(), "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
    assert!(e2e.is_self_signed() && !e2e.is_ca());
    let attrs = e2e.subject_attributes().unwrap();
    for (t, v) in [("CN", "e2e"), ("O", "Notary"), ("L", "Seattle"), ("ST", "WA"), ("C", "US")] {
        assert!(attrs.contains(&(String::from(t), String::from(v))), "{t}={v} in {attrs:?}");
    }
    let der = read("certs/notation-core-go/x509/der.der");
    let cert = Certificate::from_der(&der).unwrap();
    assert_eq!(cert.der(), &der[..]);
    use sha2::Digest as _;
    assert_eq!(cert.sha256_fingerprint().to_vec(), sha2::Sha256::digest(&der).to_vec());
    assert_eq!(cert.sha256_fingerprint_hex().len(), 64);
    // The revocation chain's pointers come out as notation sees them.
    let chain = parse_certificates(&read("revocation/notation-e2e/crl/certchain_with_crl.pem")).unwrap();
    assert_eq!(chain[0].crl_distribution_points(), ["http://localhost:10086/leaf.crl"]);
    assert_eq!(chain[1].crl_distribution_points(), ["http://localhost:10086/intermediate.crl"]);
    assert_eq!(chain[1].ocsp_urls(), ["http://localhost.test/ocsp"]);
    assert_eq!(chain[0].serial_hex(), "1000");
    // The stale leaf CRL is also past its nextUpdate at the corpus time.
    let stale = Crl::parse(&read("revocation/notation-e2e/crl/leaf_expired.crl")).unwrap();
    assert!(!stale.is_current_at(Timestamp::parse_rfc3339("2025-06-01T00:00:00Z").unwrap()));
    let fresh = Crl::parse(&read("revocation/notation-e2e/crl/leaf.crl")).unwrap();
    fresh.verify_signed_by(&chain[1]).unwrap();
    assert!(fresh.verify_signed_by(&chain[2]).is_err());
}

/// A deterministic byte source for RSA-PSS salts in tests (the core itself never draws randomness).
struct CountingRng(u8);

impl rsa::rand_core::RngCore for CountingRng {
    fn next_u32(&mut self) -> u32 {
        rsa::rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rsa::rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for CountingRng {}

/// Re-signs a generated self-signed leaf with the e2e RSA key under `algorithm`, padding chosen by `sign`.
fn rsa_self_signed(
    algorithm: spki::AlgorithmIdentifierOwned,
    sign: impl Fn(&rsa::RsaPrivateKey, &[u8]) -> Vec<u8>,
) -> Result<Certificate, X509Error> {
    use super::test_certificates::*;
    use der::{Decode, Encode};
    use pkcs8::DecodePrivateKey;
    let pem = String::from_utf8(read("certs/notation-e2e/localkeys/e2e.key")).unwrap();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
    let spki_der = pkcs8::EncodePublicKey::to_public_key_der(&key.to_public_key()).unwrap();
    let ec = key_for_template();
    let template = build(&Spec::leaf(LEAF, LEAF), &ec, &ec);
    let mut tbs = template.inner().tbs_certificate.clone();
    tbs.subject_public_key_info = spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).unwrap();
    tbs.signature = algorithm.clone();
    let signature = sign(&key, &tbs.to_der().unwrap());
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: der::asn1::BitString::new(0, signature).unwrap(),
    };
    Certificate::from_der(&cert.to_der().unwrap())
}

fn key_for_template() -> crate::crypto::SigningKey {
    super::test_certificates::key(crate::crypto::KeyKind::P256, 42)
}

fn pss_algorithm(salt: u8, mgf_hash: der::asn1::ObjectIdentifier) -> spki::AlgorithmIdentifierOwned {
    let mut params = rsa::pkcs1::RsaPssParams::new::<sha2::Sha256>(salt);
    let mgf_params = spki::AlgorithmIdentifierRef { oid: mgf_hash, parameters: None };
    params.mask_gen.parameters = Some(mgf_params);
    spki::AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"),
        parameters: Some(der::Any::encode_from(&params).unwrap()),
    }
}

#[test]
fn rsa_pss_and_pkcs1_certificate_signatures_verify_with_parsed_parameters() {
    use super::test_certificates::t;
    let sha256 = der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    let sha1 = der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    let pss = |salt: usize| {
        move |k: &rsa::RsaPrivateKey, m: &[u8]| {
            let hashed = crate::crypto::HashAlgorithm::Sha256.digest(m);
            k.sign_with_rng(&mut CountingRng(7), rsa::Pss::new_with_salt::<sha2::Sha256>(salt), &hashed).unwrap()
        }
    };
    for salt in [32u8, 20] {
        let cert = rsa_self_signed(pss_algorithm(salt, sha256), pss(usize::from(salt))).unwrap();
        cert.verify_signed_by(&cert).unwrap();
        validate_chain(core::slice::from_ref(&cert), ChainPurpose::CodeSigning, Some(t(2025))).unwrap();
    }
    // The declared salt length is the one verified.
    let lying = rsa_self_signed(pss_algorithm(32, sha256), pss(20)).unwrap();
    assert_eq!(lying.verify_signed_by(&lying), Err(X509Error::BadSignature));
    let odd_mgf = rsa_self_signed(pss_algorithm(32, sha1), pss(32)).unwrap();
    assert!(matches!(odd_mgf.verify_signed_by(&odd_mgf), Err(X509Error::UnsupportedSignatureAlgorithm(_))));
    let no_params = spki::AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"),
        parameters: None,
    };
    let bare = rsa_self_signed(no_params, pss(32)).unwrap();
    assert!(matches!(bare.verify_signed_by(&bare), Err(X509Error::UnsupportedSignatureAlgorithm(_))));
    let pkcs1 = spki::AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12"),
        parameters: Some(der::Any::null()),
    };
    let cert = rsa_self_signed(pkcs1, |k, m| {
        let hashed = crate::crypto::HashAlgorithm::Sha384.digest(m);
        k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), &hashed).unwrap()
    })
    .unwrap();
    cert.verify_signed_by(&cert).unwrap();
}
