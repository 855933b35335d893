//! Interop with two more independent clients: skopeo copies a multi-layer image in and out of nv2-registry (through
//! an OCI layout) with identical digests, and regctl shows the referrer tree (`artifact tree`).
//!
//! regctl and oras come from `$NV2_PEERS_DIR/bin` or `$HOME/.cache/nv2/peers/bin`, skopeo from PATH (Debian
//! package). All installed by `.ci/install-peers.sh`. Missing: fail when `CI=true`, skip with a message otherwise.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn missing(name: &str) {
    let msg = format!("{name} not installed: run .ci/install-peers.sh");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
}

fn peer(name: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("NV2_PEERS_DIR").map(|d| PathBuf::from(d).join("bin").join(name)),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nv2/peers/bin").join(name)),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        missing(name);
    }
    found
}

fn on_path(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        missing(name);
    }
    found
}

fn run(bin: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).current_dir(home).env("HOME", home).args(args).output().expect("run peer");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} {args:?} failed: {text}", bin.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn push_image(oras: &Path, home: &Path, image: &str) -> String {
    for i in 1..=3u8 {
        let data: Vec<u8> = (0..200_000u32).map(|n| (n as u8).wrapping_mul(i).wrapping_add(i)).collect();
        std::fs::write(home.join(format!("layer{i}.bin")), data).unwrap();
    }
    let out = run(oras, home, &["push", "--plain-http", image, "layer1.bin", "layer2.bin", "layer3.bin"]);
    out.lines().find_map(|l| l.strip_prefix("Digest: ")).expect("digest").trim().to_owned()
}

#[test]
fn skopeo_copies_a_multi_layer_image_in_and_out_with_identical_digests() {
    let (Some(skopeo), Some(oras)) = (on_path("skopeo"), peer("oras")) else { return };
    let server = support::Server::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let src = format!("docker://{}/src/img:v1", server.addr);
    let digest = push_image(&oras, h, &format!("{}/src/img:v1", server.addr));
    let plain = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    // Out to an OCI layout, then back into another repository.
    run(&skopeo, h, &["copy", plain[0], &src, "oci:layout:v1"]);
    let back = format!("docker://{}/back/img:v1", server.addr);
    run(&skopeo, h, &["copy", plain[1], "oci:layout:v1", &back]);
    // Registry to registry.
    let direct = format!("docker://{}/direct/img:v1", server.addr);
    run(&skopeo, h, &["copy", plain[0], plain[1], &src, &direct]);
    for image in [&src, &back, &direct] {
        let raw = run(&skopeo, h, &["inspect", "--tls-verify=false", "--raw", image]);
        let got = nv2_core::oci::Digest::sha256(raw.as_bytes()).to_string();
        assert_eq!(got, digest, "{image}");
    }
}

#[test]
fn regctl_shows_the_referrer_tree() {
    let (Some(regctl), Some(oras)) = (peer("regctl"), peer("oras")) else { return };
    let server = support::Server::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let image = format!("{}/tree/img:v1", server.addr);
    push_image(&oras, h, &image);
    std::fs::write(h.join("sig.txt"), "sig").unwrap();
    let attached =
        run(&oras, h, &["attach", "--plain-http", "--artifact-type", "application/x.sig", &image, "sig.txt"]);
    let sig = attached.lines().find_map(|l| l.strip_prefix("Digest: ")).expect("digest").trim().to_owned();
    run(&regctl, h, &["registry", "set", "--tls", "disabled", &server.addr]);
    let tree = run(&regctl, h, &["artifact", "tree", &image]);
    assert!(tree.contains("Referrers:"), "{tree}");
    assert!(tree.contains(&format!("{sig}: application/x.sig")), "{tree}");
}
