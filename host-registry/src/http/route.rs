//! Request paths → routes. Names are validated here, on the raw (still percent-encoded) path, so `..`, `%2e%2e` and
//! encoded slashes can never reach storage: the name grammar admits none of them.

use crate::content;
use crate::registry::RegistryError;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`: API version check.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/manifests/<reference>`.
    Manifest {
        /// Repository.
        name: String,
        /// Tag or digest, unparsed.
        reference: String,
    },
    /// `/v2/<name>/blobs/<digest>`.
    Blob {
        /// Repository.
        name: String,
        /// Digest, unparsed.
        digest: String,
    },
    /// `/v2/<name>/blobs/uploads/`.
    UploadStart {
        /// Repository.
        name: String,
    },
    /// `/v2/<name>/blobs/uploads/<id>`.
    Upload {
        /// Repository.
        name: String,
        /// Session id.
        id: String,
    },
    /// `/v2/<name>/tags/list`.
    Tags {
        /// Repository.
        name: String,
    },
    /// `/v2/<name>/referrers/<digest>`.
    Referrers {
        /// Repository.
        name: String,
        /// Subject digest, unparsed.
        digest: String,
    },
    /// prototype-2 `/v2/_ext/oci-artifacts/v1/<name>/manifests/<ref>/references`.
    Prototype2References {
        /// Repository.
        name: String,
        /// Tag or digest, unparsed.
        reference: String,
    },
    /// ORAS 2021 `/oras/artifacts/v1/<name>/manifests/<digest>/referrers`.
    OrasReferrers {
        /// Repository.
        name: String,
        /// Subject digest, unparsed.
        digest: String,
    },
    /// `/auth/token`: the built-in token service.
    Token,
    /// `/healthz`.
    Health,
    /// `/metrics`.
    Metrics,
    /// Anything else.
    NotFound,
}

impl Route {
    /// The repository a route acts on, if any.
    pub fn repository(&self) -> Option<&str> {
        match self {
            Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::UploadStart { name }
            | Route::Upload { name, .. }
            | Route::Tags { name }
            | Route::Referrers { name, .. }
            | Route::Prototype2References { name, .. }
            | Route::OrasReferrers { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Route::Base => "base",
            Route::Catalog => "catalog",
            Route::Manifest { .. } => "manifest",
            Route::Blob { .. } => "blob",
            Route::UploadStart { .. } => "upload_start",
            Route::Upload { .. } => "upload",
            Route::Tags { .. } => "tags",
            Route::Referrers { .. } => "referrers",
            Route::Prototype2References { .. } => "p2_references",
            Route::OrasReferrers { .. } => "oras_referrers",
            Route::Token => "token",
            Route::Health => "healthz",
            Route::Metrics => "metrics",
            Route::NotFound => "not_found",
        }
    }
}

/// Parses a raw request path.
pub fn parse(path: &str) -> Result<Route, RegistryError> {
    match path {
        "/healthz" => return Ok(Route::Health),
        "/metrics" => return Ok(Route::Metrics),
        "/auth/token" => return Ok(Route::Token),
        "/v2" | "/v2/" => return Ok(Route::Base),
        "/v2/_catalog" => return Ok(Route::Catalog),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/v2/_ext/oci-artifacts/v1/") {
        let segs: Vec<&str> = rest.split('/').collect();
        return match segs.as_slice() {
            [name @ .., "manifests", reference, "references"] => {
                Ok(Route::Prototype2References { name: name_of(name)?, reference: (*reference).to_owned() })
            }
            _ => Ok(Route::NotFound),
        };
    }
    if let Some(rest) = path.strip_prefix("/oras/artifacts/v1/") {
        let segs: Vec<&str> = rest.split('/').collect();
        return match segs.as_slice() {
            [name @ .., "manifests", digest, "referrers"] => {
                Ok(Route::OrasReferrers { name: name_of(name)?, digest: (*digest).to_owned() })
            }
            _ => Ok(Route::NotFound),
        };
    }
    let Some(rest) = path.strip_prefix("/v2/") else { return Ok(Route::NotFound) };
    let segs: Vec<&str> = rest.split('/').collect();
    let route = match segs.as_slice() {
        [name @ .., "blobs", "uploads", ""] | [name @ .., "blobs", "uploads"] if !name.is_empty() => {
            Route::UploadStart { name: name_of(name)? }
        }
        [name @ .., "blobs", "uploads", id] if !name.is_empty() => {
            Route::Upload { name: name_of(name)?, id: (*id).to_owned() }
        }
        [name @ .., "blobs", digest] => Route::Blob { name: name_of(name)?, digest: (*digest).to_owned() },
        [name @ .., "manifests", reference] => {
            Route::Manifest { name: name_of(name)?, reference: (*reference).to_owned() }
        }
        [name @ .., "tags", "list"] => Route::Tags { name: name_of(name)? },
        [name @ .., "referrers", digest] => Route::Referrers { name: name_of(name)?, digest: (*digest).to_owned() },
        _ => Route::NotFound,
    };
    Ok(route)
}

fn name_of(segments: &[&str]) -> Result<String, RegistryError> {
    let name = segments.join("/");
    content::validate_repository_name(&name).map_err(|_| RegistryError::NameInvalid)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(parse("/v2/").unwrap(), Route::Base);
        assert_eq!(
            parse("/v2/a/b/manifests/v1").unwrap(),
            Route::Manifest { name: "a/b".into(), reference: "v1".into() }
        );
        assert_eq!(parse("/v2/a/blobs/uploads/").unwrap(), Route::UploadStart { name: "a".into() });
        assert_eq!(parse("/v2/a/blobs/uploads/x").unwrap(), Route::Upload { name: "a".into(), id: "x".into() });
        assert_eq!(parse("/v2/a/blobs/sha256:x").unwrap(), Route::Blob { name: "a".into(), digest: "sha256:x".into() });
        assert_eq!(parse("/v2/a/manifests/tags/list").unwrap(), Route::Tags { name: "a/manifests".into() });
        assert_eq!(
            parse("/v2/_ext/oci-artifacts/v1/a/b/manifests/v1/references").unwrap(),
            Route::Prototype2References { name: "a/b".into(), reference: "v1".into() }
        );
        assert_eq!(
            parse("/oras/artifacts/v1/a/manifests/d/referrers").unwrap(),
            Route::OrasReferrers { name: "a".into(), digest: "d".into() }
        );
        assert_eq!(parse("/nope").unwrap(), Route::NotFound);
    }

    #[test]
    fn traversal_is_name_invalid() {
        for p in [
            "/v2/../etc/manifests/x",
            "/v2/a/../b/manifests/x",
            "/v2/%2e%2e/manifests/x",
            "/v2/a%2fb/manifests/x",
            "/v2/a//b/tags/list",
            "/v2/manifests/x",
            "/v2/A/blobs/sha256:x",
        ] {
            assert!(matches!(parse(p), Err(RegistryError::NameInvalid)), "{p}");
        }
    }
}
