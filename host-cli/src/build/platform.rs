//! `--platform os/arch[/variant][,...]`: which platforms a directory build makes an image for.

use nv2_core::oci::Platform;

use super::error::BuildError;

/// `linux/amd64`, the platform of a build that names none.
pub fn default_platform() -> Platform {
    platform("linux", "amd64", None)
}

/// Parses one `os/arch[/variant]` (`linux/arm64/v8`).
pub fn parse_platform(text: &str) -> Result<Platform, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidOption {
        option: format!("--platform {text}"),
        reason: format!("{reason} (expected os/arch or os/arch/variant, e.g. linux/amd64)"),
    };
    let parts: Vec<&str> = text.trim().split('/').collect();
    let (os, architecture, variant) = match parts.as_slice() {
        [os, arch] => (*os, *arch, None),
        [os, arch, variant] => (*os, *arch, Some(*variant)),
        _ => return Err(invalid("wrong number of parts")),
    };
    for part in [os, architecture].into_iter().chain(variant) {
        if part.is_empty() {
            return Err(invalid("empty part"));
        }
        if !part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')) {
            return Err(invalid(&format!("{part:?} may only hold lowercase letters, digits, '_', '-' and '.'")));
        }
    }
    Ok(platform(os, architecture, variant))
}

/// Parses a comma-separated list of platforms, refusing an empty list and duplicates (two images for one platform
/// would make the index ambiguous).
pub fn parse_platforms(text: &str) -> Result<Vec<Platform>, BuildError> {
    let mut platforms: Vec<Platform> = Vec::new();
    for item in text.split(',').filter(|item| !item.trim().is_empty()) {
        let platform = parse_platform(item)?;
        if platforms.contains(&platform) {
            return Err(BuildError::InvalidOption {
                option: format!("--platform {text}"),
                reason: format!("{} is listed twice", platform_name(&platform)),
            });
        }
        platforms.push(platform);
    }
    if platforms.is_empty() {
        return Err(BuildError::InvalidOption {
            option: format!("--platform {text}"),
            reason: String::from("no platform given"),
        });
    }
    Ok(platforms)
}

/// `os/arch[/variant]`, for messages and history entries.
pub fn platform_name(platform: &Platform) -> String {
    match &platform.variant {
        Some(variant) => format!("{}/{}/{variant}", platform.os, platform.architecture),
        None => format!("{}/{}", platform.os, platform.architecture),
    }
}

fn platform(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
    Platform {
        architecture: architecture.to_string(),
        os: os.to_string(),
        os_version: None,
        os_features: Vec::new(),
        variant: variant.map(str::to_string),
        features: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platform_lists_and_refuses_bad_ones() {
        let list = parse_platforms("linux/amd64, linux/arm64/v8").unwrap();
        assert_eq!(list.iter().map(platform_name).collect::<Vec<_>>(), ["linux/amd64", "linux/arm64/v8"]);
        for bad in ["linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/amd64", "linux/amd64,linux/amd64", ","] {
            assert!(matches!(parse_platforms(bad), Err(BuildError::InvalidOption { .. })), "{bad}");
        }
    }
}
