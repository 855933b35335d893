//! `nv2 demo`, the README's main job, run as a user runs it: every step of the prototype-2 story must behave as
//! expected and the command must exit 0.

use std::process::Command;

#[test]
fn the_demo_runs_the_whole_story() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nv2")).args(["demo", "--keep"]).arg(work.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "nv2 demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("UNEXPECTED"), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("nv2 demo: all ") && last.contains(" steps behaved as expected"), "{last}");
    // The story's artifacts are real: the exported tarball and the SBoM exist and the SBoM lists the packages.
    assert!(work.path().join("net-monitor.tar").metadata().unwrap().len() > 10_000);
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("net-monitor.spdx.json")).unwrap()).unwrap();
    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    let names: Vec<&str> = sbom["packages"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    for package in ["curl", "libc6", "requests"] {
        assert!(names.contains(&package), "{package} in {names:?}");
    }
    for step in ["nv2 copy -r", "nv2 export", "nv2 import", "refused, as it must be"] {
        assert!(stdout.contains(step), "{step}");
    }
}
