//! Which scopes a resource needs: one, any of a set, or all of a set (RFC 6749 §3.3).

use crate::token::claims::AccessTokenClaims;

/// The scopes a protected resource requires of an access token.
///
/// A token that does not meet the requirement is answered with 403 `insufficient_scope`
/// (RFC 6750 §3.1), its challenge's `scope` attribute naming scopes that would suffice: every
/// scope of an [`all_of`](Self::all_of) set, the first of an [`any_of`](Self::any_of) set.
///
/// ```
/// use keybound::ScopeRequirement;
/// let read = ScopeRequirement::any_of(["orders:read", "orders:admin"]);
/// let write = ScopeRequirement::all_of(["orders:read", "orders:write"]);
/// # let _ = (read, write);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRequirement {
    scopes: Vec<String>,
    rule: Rule,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    AnyOf,
    AllOf,
}

impl ScopeRequirement {
    /// The token must carry `scope`.
    pub fn one(scope: &str) -> Self {
        Self::all_of([scope])
    }

    /// The token must carry at least one of `scopes`. An empty set is never met (fail closed).
    pub fn any_of<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(scopes, Rule::AnyOf)
    }

    /// The token must carry every one of `scopes`. An empty set requires nothing.
    pub fn all_of<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(scopes, Rule::AllOf)
    }

    fn new<'a>(scopes: impl IntoIterator<Item = &'a str>, rule: Rule) -> Self {
        Self {
            scopes: scopes.into_iter().map(str::to_owned).collect(),
            rule,
        }
    }

    /// Whether a token with `claims` meets the requirement.
    pub fn is_met_by(&self, claims: &AccessTokenClaims) -> bool {
        let mut held = self.scopes.iter().map(|scope| claims.has_scope(scope));
        match self.rule {
            Rule::AnyOf => held.any(|held| held),
            Rule::AllOf => held.all(|held| held),
        }
    }

    /// The `scope` attribute of the `insufficient_scope` challenge: scopes that would suffice,
    /// space-separated.
    pub(crate) fn sufficient_scopes(&self) -> String {
        match self.rule {
            Rule::AnyOf => self.scopes.first().cloned().unwrap_or_default(),
            Rule::AllOf => self.scopes.join(" "),
        }
    }
}

impl From<&str> for ScopeRequirement {
    fn from(scope: &str) -> Self {
        Self::one(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(scope: &str) -> AccessTokenClaims {
        let json = serde_json::json!({
            "iss": "https://as.example", "sub": "alice", "aud": "api", "exp": 2, "iat": 1,
            "jti": "j", "client_id": "c", "scope": scope,
        });
        let serde_json::Value::Object(map) = json else {
            unreachable!()
        };
        AccessTokenClaims::from_object(map).expect("claims")
    }

    #[test]
    fn any_of_needs_one_all_of_needs_every_one() {
        let token = claims("orders:read profile");
        assert!(ScopeRequirement::one("orders:read").is_met_by(&token));
        assert!(!ScopeRequirement::one("orders").is_met_by(&token));
        assert!(ScopeRequirement::any_of(["orders:write", "orders:read"]).is_met_by(&token));
        assert!(!ScopeRequirement::any_of(["orders:write", "admin"]).is_met_by(&token));
        assert!(ScopeRequirement::all_of(["profile", "orders:read"]).is_met_by(&token));
        assert!(!ScopeRequirement::all_of(["profile", "orders:write"]).is_met_by(&token));
    }

    #[test]
    fn empty_sets_fail_closed_for_any_of() {
        let token = claims("orders:read");
        assert!(!ScopeRequirement::any_of([]).is_met_by(&token));
        assert!(ScopeRequirement::all_of([]).is_met_by(&token));
    }

    #[test]
    fn the_challenge_names_scopes_that_suffice() {
        let any = ScopeRequirement::any_of(["a", "b"]);
        assert_eq!(any.sufficient_scopes(), "a");
        let all = ScopeRequirement::all_of(["a", "b"]);
        assert_eq!(all.sufficient_scopes(), "a b");
    }
}
