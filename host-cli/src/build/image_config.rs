//! The image config (`application/vnd.oci.image.config.v1+json`): written for directory builds with a fixed field
//! order and no wall-clock time, and read back from `docker save` configs for their `rootfs.diff_ids`.

use std::collections::BTreeMap;

use nv2_core::oci::{Digest, Platform};
use serde::Serialize;
use serde_json::Value;

use super::error::BuildError;
use super::options::BuildOptions;

/// Largest config nv2 reads (docker configs carry history, but stay far below this).
pub(crate) const MAX_CONFIG_BYTES: usize = 4 << 20;

/// The config document, fields in the order docker and buildkit write them.
#[derive(Serialize)]
struct ConfigDocument<'a> {
    created: &'a str,
    architecture: &'a str,
    os: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    config: ContainerConfig<'a>,
    rootfs: RootFs<'a>,
    history: Vec<History<'a>>,
}

/// `config`: how a container of this image starts.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerConfig<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    env: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    entrypoint: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    cmd: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: &'a [Digest],
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
    created_by: &'a str,
}

/// The config bytes of a directory build for `platform` whose layers have `diff_ids`.
pub(crate) fn directory_config(
    options: &BuildOptions,
    platform: &Platform,
    diff_ids: &[Digest],
) -> Result<Vec<u8>, BuildError> {
    let created = options.created();
    let document = ConfigDocument {
        created: &created,
        architecture: &platform.architecture,
        os: &platform.os,
        variant: platform.variant.as_deref(),
        config: ContainerConfig {
            env: &options.env,
            entrypoint: &options.entrypoint,
            cmd: &options.cmd,
            working_dir: options.working_dir.as_deref(),
            labels: &options.labels,
        },
        rootfs: RootFs { kind: "layers", diff_ids },
        history: diff_ids
            .iter()
            .map(|_| History { created: &created, created_by: "nv2 build (directory layer)" })
            .collect(),
    };
    serde_json::to_vec(&document).map_err(|e| BuildError::Oci {
        what: String::from("image config"),
        source: nv2_core::oci::OciError::Serialize { reason: e.to_string() },
    })
}

/// The `rootfs.diff_ids` of a config read from an input (strict JSON: duplicate keys refused). `what` names the
/// config in errors.
pub(crate) fn config_diff_ids(what: &str, bytes: &[u8]) -> Result<Vec<Digest>, String> {
    let object = nv2_core::json::parse_strict_object(bytes, MAX_CONFIG_BYTES, nv2_core::limits::MAX_JSON_DEPTH)
        .map_err(|e| format!("config {what} is not valid JSON: {e}"))?;
    let rootfs = object.get("rootfs").ok_or_else(|| format!("config {what} has no rootfs"))?;
    if rootfs.get("type").and_then(Value::as_str) != Some("layers") {
        return Err(format!("config {what}: rootfs.type is not \"layers\""));
    }
    let ids = match rootfs.get("diff_ids") {
        Some(Value::Array(ids)) => ids,
        Some(Value::Null) | None => return Ok(Vec::new()),
        Some(_) => return Err(format!("config {what}: rootfs.diff_ids is not an array")),
    };
    ids.iter()
        .map(|id| {
            let text = id.as_str().ok_or_else(|| format!("config {what}: a diff_id is not a string"))?;
            Digest::parse(text).map_err(|e| format!("config {what}: diff_id {text:?}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::platform::parse_platform;

    #[test]
    fn writes_a_stable_config_with_only_the_fields_set() {
        let options = BuildOptions {
            entrypoint: vec!["/usr/local/bin/net-monitor".into()],
            env: vec!["PATH=/usr/bin".into()],
            ..Default::default()
        };
        let id = Digest::sha256(b"layer");
        let bytes =
            directory_config(&options, &parse_platform("linux/arm64/v8").unwrap(), std::slice::from_ref(&id)).unwrap();
        let expected = format!(
            concat!(
                r#"{{"created":"1970-01-01T00:00:00Z","architecture":"arm64","os":"linux","variant":"v8","#,
                r#""config":{{"Env":["PATH=/usr/bin"],"Entrypoint":["/usr/local/bin/net-monitor"]}},"#,
                r#""rootfs":{{"type":"layers","diff_ids":["{id}"]}},"#,
                r#""history":[{{"created":"1970-01-01T00:00:00Z","created_by":"nv2 build (directory layer)"}}]}}"#
            ),
            id = id
        );
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        assert_eq!(config_diff_ids("c", &bytes).unwrap(), vec![id]);
    }

    #[test]
    fn refuses_configs_without_usable_diff_ids() {
        for bad in [
            &b"[]"[..],
            br#"{"rootfs":{"type":"layers","diff_ids":[1]}}"#,
            br#"{"rootfs":{"type":"other","diff_ids":[]}}"#,
            br#"{"rootfs":{"type":"layers","diff_ids":["sha256:nothex"]}}"#,
            br#"{"rootfs":{"type":"layers"},"rootfs":{}}"#,
        ] {
            assert!(config_diff_ids("c", bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
