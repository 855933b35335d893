//! Paginated name listings: `GET /v2/_catalog` (`{"repositories":[…]}`) and `GET /v2/<name>/tags/list`
//! (`{"name":…,"tags":[…]}`), with `n`/`last` and the `Link: <…>; rel="next"` pages the spec tells clients to
//! follow.

use reqwest::Url;
use serde_json::Value;

use super::client::RegistryClient;
use super::response::{next_link, read_limited, Ctx, Failure};
use crate::content::ContentError;

/// Largest listing page read.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Most pages followed.
const MAX_PAGES: usize = 10_000;
/// Most names collected.
const MAX_NAMES: usize = 1_000_000;

/// How much of a paginated listing to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pages {
    /// The first page only.
    One,
    /// Every page, following `Link` headers (bounded).
    All,
}

/// Adds `n` and `last` to a listing URL.
pub(super) fn add_page_query(url: &mut Url, n: Option<usize>, last: Option<&str>) {
    if n.is_none() && last.is_none() {
        return;
    }
    let mut query = url.query_pairs_mut();
    if let Some(n) = n {
        query.append_pair("n", &n.to_string());
    }
    if let Some(last) = last {
        query.append_pair("last", last);
    }
}

/// Reads the string array `field` of each page, starting at `url`.
pub(super) async fn names(
    client: &RegistryClient,
    registry: &str,
    store: &str,
    scopes: &[String],
    mut url: Url,
    field: &'static str,
    pages: Pages,
) -> Result<Vec<String>, ContentError> {
    let what = if field == "tags" { "tags" } else { "repositories" };
    let ctx = Ctx { store, operation: "list", what };
    let malformed = |reason: String| ContentError::Malformed { store: store.to_owned(), reason };
    let mut names = Vec::new();
    for _ in 0..MAX_PAGES {
        let response = client.send(registry, store, scopes, |http| http.get(url.clone())).await?;
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error(ctx));
        }
        let next = next_link(response.headers(), &url, store)?;
        let body = read_limited(response, MAX_PAGE_BYTES, ctx).await?;
        let document: Value =
            serde_json::from_slice(&body).map_err(|e| malformed(format!("{what} listing is not JSON: {e}")))?;
        match document.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let name = item.as_str().ok_or_else(|| malformed(format!("{what} listing holds a non-string")))?;
                    names.push(name.to_owned());
                }
            }
            Some(_) => return Err(malformed(format!("{what} listing's {field:?} is not an array"))),
        }
        if names.len() > MAX_NAMES {
            return Err(ContentError::TooLarge {
                what: format!("{what} listing"),
                size: names.len() as u64,
                limit: MAX_NAMES as u64,
            });
        }
        match (pages, next) {
            (Pages::All, Some(next)) => url = next,
            _ => return Ok(names),
        }
    }
    Err(malformed(format!("{what} listing spans more than {MAX_PAGES} pages")))
}
