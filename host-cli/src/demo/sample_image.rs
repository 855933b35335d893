//! The small directory the demo builds `net-monitor:v1` from, compiled into the binary (host-cli/demo/net-monitor)
//! so `nv2 demo` needs no checkout: a start script, its configuration, and the package databases an SBoM lists.

use std::path::{Path, PathBuf};

/// `(path inside the image, contents, executable)`.
const FILES: [(&str, &[u8], bool); 6] = [
    ("usr/local/bin/net-monitor", include_bytes!("../../demo/net-monitor/usr/local/bin/net-monitor"), true),
    ("etc/net-monitor/config.yaml", include_bytes!("../../demo/net-monitor/etc/net-monitor/config.yaml"), false),
    ("etc/os-release", include_bytes!("../../demo/net-monitor/etc/os-release"), false),
    ("var/lib/dpkg/status", include_bytes!("../../demo/net-monitor/var/lib/dpkg/status"), false),
    (
        "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
        include_bytes!("../../demo/net-monitor/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"),
        false,
    ),
    (
        "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/top_level.txt",
        include_bytes!("../../demo/net-monitor/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/top_level.txt"),
        false,
    ),
];

/// Writes the sample directory under `dir` and returns it.
pub fn write(dir: &Path) -> std::io::Result<PathBuf> {
    for (path, contents, executable) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, contents)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if executable { 0o755 } else { 0o644 };
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(dir.to_path_buf())
}
