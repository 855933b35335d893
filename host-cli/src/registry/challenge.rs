//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1): `Basic realm="…"` or
//! `Bearer realm="…",service="…",scope="repository:a/b:pull,push"`, where quoted values may hold commas and
//! escaped quotes, and one header may carry several challenges.

/// What a registry asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Challenge {
    /// HTTP Basic: send the user name and password.
    Basic,
    /// Docker token flow: fetch a token from `realm`.
    Bearer {
        /// Token endpoint URL.
        realm: String,
        /// `service` parameter to pass on, if given.
        service: Option<String>,
        /// Scopes the registry named (space-separated in the header).
        scopes: Vec<String>,
    },
}

/// Picks the challenge to answer from every `WWW-Authenticate` value: Bearer (with a realm) over Basic; unknown
/// schemes are ignored. `None` when nothing usable was offered.
pub(super) fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for value in values {
        for (scheme, params) in split_challenges(value) {
            if scheme.eq_ignore_ascii_case("bearer") {
                let get = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
                let Some(realm) = get("realm").filter(|r| !r.is_empty()) else { continue };
                let scopes = get("scope")
                    .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
                    .unwrap_or_default();
                return Some(Challenge::Bearer {
                    realm: realm.clone(),
                    service: get("service").filter(|s| !s.is_empty()).cloned(),
                    scopes,
                });
            }
            basic |= scheme.eq_ignore_ascii_case("basic");
        }
    }
    basic.then_some(Challenge::Basic)
}

/// Splits one header value into `(scheme, [(name, value)])` challenges.
fn split_challenges(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut lexer = Lexer { rest: value };
    let mut challenges: Vec<(String, Vec<(String, String)>)> = Vec::new();
    loop {
        lexer.skip(|c| c == ',' || c.is_ascii_whitespace());
        let word = lexer.token();
        if word.is_empty() {
            // Nothing parseable is left (or a stray character): stop rather than loop.
            break;
        }
        lexer.skip(|c| c == ' ' || c == '\t');
        if lexer.peek() == Some('=') {
            // A parameter of the current challenge.
            lexer.advance(1);
            lexer.skip(|c| c == ' ' || c == '\t');
            let value = if lexer.peek() == Some('"') { lexer.quoted() } else { lexer.token().to_owned() };
            if let Some((_, params)) = challenges.last_mut() {
                params.push((word.to_owned(), value));
            }
        } else {
            challenges.push((word.to_owned(), Vec::new()));
        }
    }
    challenges
}

/// A cursor over a header value.
struct Lexer<'a> {
    rest: &'a str,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn advance(&mut self, bytes: usize) {
        self.rest = self.rest.get(bytes..).unwrap_or_default();
    }

    fn skip(&mut self, mut pred: impl FnMut(char) -> bool) {
        let end = self.rest.find(|c| !pred(c)).unwrap_or(self.rest.len());
        self.advance(end);
    }

    /// An RFC 9110 token (also covers token68 values such as base64 with `=` padding only when unquoted values
    /// end at `,` or whitespace).
    fn token(&mut self) -> &'a str {
        let end = self.rest.find(|c: char| c == ',' || c == '=' || c == '"' || c.is_ascii_whitespace());
        let end = end.unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        token
    }

    /// A quoted string with `\` escapes; an unterminated one ends at the end of the value.
    fn quoted(&mut self) -> String {
        self.advance(1);
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        let mut consumed = self.rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    consumed = i + 1;
                    break;
                }
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                c => out.push(c),
            }
        }
        self.advance(consumed);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_quoted_commas() {
        let value = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#;
        assert_eq!(
            parse([value]),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scopes: vec!["repository:samalba/my-app:pull,push".into()],
            })
        );
    }

    #[test]
    fn parses_basic_several_challenges_and_garbage() {
        assert_eq!(parse([r#"Basic realm="nv2-registry""#]), Some(Challenge::Basic));
        assert_eq!(parse(["basic"]), Some(Challenge::Basic));
        let both = r#"Basic realm="x", Bearer realm="http://h/token", scope="a b""#;
        let Some(Challenge::Bearer { realm, service, scopes }) = parse([both]) else { panic!("bearer expected") };
        assert_eq!((realm.as_str(), service, scopes), ("http://h/token", None, vec!["a".into(), "b".into()]));
        let escaped = r#"Bearer realm="http://h/t\"x",service=svc"#;
        let Some(Challenge::Bearer { realm, service, .. }) = parse([escaped]) else { panic!("bearer expected") };
        assert_eq!((realm.as_str(), service.as_deref()), ("http://h/t\"x", Some("svc")));
        for garbage in
            ["", "Bearer", "Bearer realm=", "Negotiate abc==", "\"\"\"", "=,=,=", "Bearer realm=\"unterminated"]
        {
            let parsed = parse([garbage]);
            assert!(!matches!(parsed, Some(Challenge::Basic)), "{garbage}");
        }
        assert!(matches!(parse(["Bearer realm=\"unterminated"]), Some(Challenge::Bearer { .. })));
    }
}
