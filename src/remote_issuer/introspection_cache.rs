//! Introspection answers kept by the token's SHA-256: active ones for a while (never past the
//! token's `exp`), refusals briefly. Network failures are never cached (the caller decides).

use std::sync::Arc;

use crate::error::TokenError;
use crate::resource::expiring_cache::ExpiringCache;
use crate::token::claims::AccessTokenClaims;

/// The claims of an active token, or why the token is refused.
pub(crate) type Verdict = Result<Arc<AccessTokenClaims>, TokenError>;

/// Verdicts by token hash, each until its time.
pub(crate) type IntrospectionCache = ExpiringCache<Verdict>;
