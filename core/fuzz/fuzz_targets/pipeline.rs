//! The whole verification pipeline on arbitrary bytes. Layout: byte 0 = flags (bit 0: COSE, bit 1: no manifest,
//! bit 2: blob target), bytes 1..3 = manifest length (big endian), then the manifest, then the envelope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::verify::{self, BlobDigests, SignatureInput, Target, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let [flags, hi, lo, rest @ ..] = data else { return };
    let split = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
    let (manifest, envelope) = rest.split_at(split);
    let format = if flags & 1 == 0 { EnvelopeFormat::Jws } else { EnvelopeFormat::Cose };
    let signature =
        SignatureInput { manifest: if flags & 2 == 0 { Some(manifest) } else { None }, envelope, format: Some(format) };
    let target = if flags & 4 == 0 {
        Target::Manifest {
            media_type: nv2_core_fuzz::TARGET_MEDIA_TYPE.into(),
            digest: nv2_core_fuzz::TARGET_DIGEST.into(),
            size: nv2_core_fuzz::TARGET_SIZE,
        }
    } else {
        Target::Blob { digests: BlobDigests::of(manifest), size: manifest.len() as u64, media_type: None }
    };
    let Some(statement) = nv2_core_fuzz::policy().statements.first() else { return };
    let options = VerifyOptions::at(nv2_core_fuzz::NOW);
    let verdict = verify::verify(&target, &[signature], &statement.rules, nv2_core_fuzz::stores(), &options);
    let _ = verdict.reason();
});
