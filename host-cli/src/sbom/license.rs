//! Declared licences as SPDX licence expressions.
//!
//! Package managers declare licences as free text; SPDX and CycloneDX documents need either a valid SPDX licence
//! expression or an explicitly named non-SPDX licence. [`License::classify`] decides which: text that parses as an
//! expression over the identifiers below (case-insensitively, with `AND`/`OR`/`WITH`, parentheses and `+`) is
//! written in canonical form; a few very common spellings (`Apache 2.0`, `MIT License`) are mapped; anything else
//! is kept verbatim as a named licence (SPDX `LicenseRef-`, CycloneDX `license.name`), never guessed.
//!
//! The identifiers are a subset of the SPDX licence list (3.x) covering what Linux distributions and language
//! registries commonly declare; a real identifier missing here is kept verbatim as a named licence, not lost.

/// SPDX licence identifiers recognised, with whether the SPDX list marks them deprecated.
const LICENSES: &[(&str, bool)] = &[
    ("0BSD", false),
    ("AFL-2.1", false),
    ("AFL-3.0", false),
    ("AGPL-3.0", true),
    ("AGPL-3.0-only", false),
    ("AGPL-3.0-or-later", false),
    ("Apache-1.0", false),
    ("Apache-1.1", false),
    ("Apache-2.0", false),
    ("APSL-2.0", false),
    ("Artistic-1.0", false),
    ("Artistic-1.0-Perl", false),
    ("Artistic-2.0", false),
    ("Beerware", false),
    ("BlueOak-1.0.0", false),
    ("BSD-1-Clause", false),
    ("BSD-2-Clause", false),
    ("BSD-2-Clause-Patent", false),
    ("BSD-3-Clause", false),
    ("BSD-3-Clause-Clear", false),
    ("BSD-4-Clause", false),
    ("BSL-1.0", false),
    ("bzip2-1.0.6", false),
    ("CC-BY-3.0", false),
    ("CC-BY-4.0", false),
    ("CC-BY-SA-3.0", false),
    ("CC-BY-SA-4.0", false),
    ("CC0-1.0", false),
    ("CDDL-1.0", false),
    ("CDDL-1.1", false),
    ("CPL-1.0", false),
    ("curl", false),
    ("ECL-2.0", false),
    ("EPL-1.0", false),
    ("EPL-2.0", false),
    ("EUPL-1.1", false),
    ("EUPL-1.2", false),
    ("FSFAP", false),
    ("FSFUL", false),
    ("FSFULLR", false),
    ("FTL", false),
    ("GFDL-1.2-only", false),
    ("GFDL-1.2-or-later", false),
    ("GFDL-1.3-only", false),
    ("GFDL-1.3-or-later", false),
    ("GPL-1.0", true),
    ("GPL-1.0+", true),
    ("GPL-1.0-only", false),
    ("GPL-1.0-or-later", false),
    ("GPL-2.0", true),
    ("GPL-2.0+", true),
    ("GPL-2.0-only", false),
    ("GPL-2.0-or-later", false),
    ("GPL-3.0", true),
    ("GPL-3.0+", true),
    ("GPL-3.0-only", false),
    ("GPL-3.0-or-later", false),
    ("HPND", false),
    ("ICU", false),
    ("IJG", false),
    ("Info-ZIP", false),
    ("IPL-1.0", false),
    ("ISC", false),
    ("LGPL-2.0", true),
    ("LGPL-2.0+", true),
    ("LGPL-2.0-only", false),
    ("LGPL-2.0-or-later", false),
    ("LGPL-2.1", true),
    ("LGPL-2.1+", true),
    ("LGPL-2.1-only", false),
    ("LGPL-2.1-or-later", false),
    ("LGPL-3.0", true),
    ("LGPL-3.0+", true),
    ("LGPL-3.0-only", false),
    ("LGPL-3.0-or-later", false),
    ("Libpng", false),
    ("libtiff", false),
    ("LPPL-1.3c", false),
    ("MirOS", false),
    ("MIT", false),
    ("MIT-0", false),
    ("MPL-1.0", false),
    ("MPL-1.1", false),
    ("MPL-2.0", false),
    ("MPL-2.0-no-copyleft-exception", false),
    ("MS-PL", false),
    ("MS-RL", false),
    ("NCSA", false),
    ("NTP", false),
    ("OFL-1.1", false),
    ("OLDAP-2.8", false),
    ("OpenSSL", false),
    ("OSL-3.0", false),
    ("PHP-3.01", false),
    ("PostgreSQL", false),
    ("PSF-2.0", false),
    ("Python-2.0", false),
    ("Ruby", false),
    ("Sleepycat", false),
    ("TCL", false),
    ("Unicode-DFS-2016", false),
    ("Unlicense", false),
    ("UPL-1.0", false),
    ("Vim", false),
    ("W3C", false),
    ("WTFPL", false),
    ("X11", false),
    ("Zlib", false),
    ("zlib-acknowledgement", false),
    ("ZPL-2.1", false),
];

/// SPDX licence exception identifiers recognised after `WITH`.
const EXCEPTIONS: &[&str] = &[
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Bison-exception-2.2",
    "Classpath-exception-2.0",
    "Font-exception-2.0",
    "GCC-exception-2.0",
    "GCC-exception-3.1",
    "Libtool-exception",
    "Linux-syscall-note",
    "LLVM-exception",
    "OpenJDK-assembly-exception-1.0",
    "Qt-LGPL-exception-1.1",
    "WxWindows-exception-3.1",
];

/// Common non-SPDX spellings of one licence, matched on the whole text (case-insensitive).
const ALIASES: &[(&str, &str)] = &[
    ("Apache 2.0", "Apache-2.0"),
    ("Apache 2", "Apache-2.0"),
    ("Apache-2", "Apache-2.0"),
    ("Apache License 2.0", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("Apache Software License 2.0", "Apache-2.0"),
    ("MIT License", "MIT"),
    ("The MIT License", "MIT"),
    ("ISC License", "ISC"),
    ("ISC License (ISCL)", "ISC"),
    ("BSD 3-Clause", "BSD-3-Clause"),
    ("BSD-3", "BSD-3-Clause"),
    ("BSD 2-Clause", "BSD-2-Clause"),
    ("MPL 2.0", "MPL-2.0"),
    ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
    ("The Unlicense (Unlicense)", "Unlicense"),
    ("Python Software Foundation License", "PSF-2.0"),
];

/// A declared licence, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum License {
    /// A single, current SPDX licence identifier (CycloneDX `license.id`).
    Id(String),
    /// A valid SPDX licence expression that is more than one current identifier (CycloneDX `expression`).
    Expression(String),
    /// Text that is not an SPDX expression, kept verbatim (SPDX `LicenseRef-`, CycloneDX `license.name`).
    Named(String),
}

impl License {
    /// Classifies declared text (trimmed; empty text should not be passed, it means "not declared").
    pub(crate) fn classify(text: &str) -> License {
        let text = text.trim();
        let aliased = ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(text)).map(|(_, id)| *id);
        let Some(expression) = aliased.map(str::to_string).or_else(|| canonical_expression(text)) else {
            return License::Named(text.to_string());
        };
        match LICENSES.iter().find(|(id, _)| *id == expression) {
            Some((id, false)) => License::Id((*id).to_string()),
            _ => License::Expression(expression),
        }
    }

    /// The SPDX expression, when it is one.
    pub(crate) fn expression(&self) -> Option<&str> {
        match self {
            License::Id(text) | License::Expression(text) => Some(text),
            License::Named(_) => None,
        }
    }
}

/// `text` as a canonical SPDX expression (identifiers in list case, operators upper case), or `None`.
fn canonical_expression(text: &str) -> Option<String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut parser = Parser { tokens: &tokens, at: 0 };
    let expression = parser.or_expression()?;
    (parser.at == tokens.len()).then_some(expression)
}

/// Recursive descent over SPDX expression tokens: `or := and (OR and)*`, `and := with (AND with)*`,
/// `with := primary (WITH exception)?`, `primary := ( or ) | licence-id[+]`.
struct Parser<'a> {
    tokens: &'a [&'a str],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.tokens.get(self.at).copied()
    }

    fn operator(&mut self, word: &str) -> bool {
        let matched = self.peek().is_some_and(|t| t == word || t == word.to_ascii_lowercase());
        if matched {
            self.at += 1;
        }
        matched
    }

    fn or_expression(&mut self) -> Option<String> {
        let mut out = self.and_expression()?;
        while self.operator("OR") {
            out = format!("{out} OR {}", self.and_expression()?);
        }
        Some(out)
    }

    fn and_expression(&mut self) -> Option<String> {
        let mut out = self.with_expression()?;
        while self.operator("AND") {
            out = format!("{out} AND {}", self.with_expression()?);
        }
        Some(out)
    }

    fn with_expression(&mut self) -> Option<String> {
        let licence = self.primary()?;
        if !self.operator("WITH") {
            return Some(licence);
        }
        let token = self.peek()?;
        let exception = EXCEPTIONS.iter().find(|e| e.eq_ignore_ascii_case(token))?;
        self.at += 1;
        Some(format!("{licence} WITH {exception}"))
    }

    fn primary(&mut self) -> Option<String> {
        let token = self.peek()?;
        self.at += 1;
        if token == "(" {
            let inner = self.or_expression()?;
            return (self.peek() == Some(")")).then(|| {
                self.at += 1;
                format!("({inner})")
            });
        }
        let known = |id: &str| LICENSES.iter().find(|(known, _)| known.eq_ignore_ascii_case(id)).map(|(k, _)| *k);
        if let Some(id) = known(token) {
            return Some(id.to_string());
        }
        let base = token.strip_suffix('+')?;
        known(base).map(|id| format!("{id}+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_declared_licences() {
        assert_eq!(License::classify("mit"), License::Id("MIT".into()));
        assert_eq!(License::classify("Apache 2.0"), License::Id("Apache-2.0".into()));
        assert_eq!(License::classify("GPL-2.0"), License::Expression("GPL-2.0".into()));
        assert_eq!(
            License::classify("(mit or apache-2.0) AND gpl-2.0-only WITH classpath-exception-2.0"),
            License::Expression("(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0".into())
        );
        assert_eq!(License::classify("LGPL-2.1+"), License::Expression("LGPL-2.1+".into()));
        assert_eq!(License::classify("MPL-1.1+"), License::Expression("MPL-1.1+".into()));
        for named in ["Apache Software License", "MIT AND", "(MIT", "MIT WITH Nothing", "Or MIT", "GPL v2"] {
            assert_eq!(License::classify(named), License::Named(named.into()), "{named}");
        }
    }
}
