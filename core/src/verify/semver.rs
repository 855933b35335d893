//! SemVer 2.0 precedence, just enough to compare a plugin's version with a signature's
//! `verificationPluginMinVersion` (pre-releases sort before their release).

use core::cmp::Ordering;

/// A parsed `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]` version; build metadata is ignored for precedence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    core: (u64, u64, u64),
    pre: Option<&'a str>,
}

impl<'a> Version<'a> {
    /// Parses a SemVer string (an optional leading `v` is tolerated, as notation does); `None` if invalid.
    pub fn parse(text: &'a str) -> Option<Self> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(v, build)| if valid_ids(build, false) { v } else { "" });
        let (core, pre) = match text.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (text, None),
        };
        if let Some(p) = pre {
            if !valid_ids(p, true) {
                return None;
            }
        }
        let mut parts = core.split('.');
        let mut num = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
                return None;
            }
            p.parse().ok()
        };
        let v = (num()?, num()?, num()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Version { core: v, pre })
    }
}

fn valid_ids(s: &str, numeric_no_leading_zero: bool) -> bool {
    !s.is_empty()
        && s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(numeric_no_leading_zero
                    && id.len() > 1
                    && id.starts_with('0')
                    && id.bytes().all(|b| b.is_ascii_digit()))
        })
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core.cmp(&other.core).then_with(|| match (self.pre, other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => {
                let mut ia = a.split('.');
                let mut ib = b.split('.');
                loop {
                    match (ia.next(), ib.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(x), Some(y)) => {
                            let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                                (Ok(nx), Ok(ny)) => nx.cmp(&ny),
                                (Ok(_), Err(_)) => Ordering::Less,
                                (Err(_), Ok(_)) => Ordering::Greater,
                                (Err(_), Err(_)) => x.cmp(y),
                            };
                            if ord != Ordering::Equal {
                                return ord;
                            }
                        }
                    }
                }
            }
        })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn orders_by_semver_precedence() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("0.0.9") < v("1.0.0"));
        assert!(v("1.0.0-alpha") < v("1.0.0"));
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.1") < v("1.0.0-alpha.beta"));
        assert!(v("1.0.0-beta.2") < v("1.0.0-beta.11"));
        assert!(v("1.0.1") > v("1.0.0"));
        assert!(v("1.1.0-alpha") > v("1.0.0"));
        assert_eq!(v("1.0.0+build.5").cmp(&v("v1.0.0")), core::cmp::Ordering::Equal);
        for bad in ["", "1", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "a.b.c", "1.0.0+"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
