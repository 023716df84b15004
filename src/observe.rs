//! What the `tracing` feature reports: one event per refused request (target
//! `keybound::rejection`) and one span per check (`keybound.check`, its busy time the check's
//! cost). Events carry the stable reason code, the status, the `error` code and, when the token
//! was verified before the refusal, `iss`, `client_id`, `sub` and `jkt`; for an `htu` mismatch
//! the diagnostic. Never a token, a proof, a nonce or a key. Without the feature every function
//! here does nothing.

use crate::resource::guard::Rejection;

/// Reports `rejection`: `WARN` when the server is at fault (5xx), `INFO` otherwise (a refused
/// client is routine).
#[cfg(feature = "tracing")]
pub(crate) fn rejected(rejection: &Rejection) {
    let claims = rejection.claims();
    let jkt = claims.and_then(|c| c.jkt()).map(|jkt| jkt.to_base64url());
    let code = rejection.error_code().map(|code| code.as_str());
    macro_rules! report {
        ($level:expr) => {
            tracing::event!(
                target: "keybound::rejection",
                $level,
                reason = rejection.reason(),
                status = rejection.status(),
                error = code,
                iss = claims.map(|c| c.issuer()),
                client_id = claims.map(|c| c.client_id()),
                sub = claims.map(|c| c.subject()),
                jkt = jkt.as_deref(),
                htu = rejection.diagnostic(),
                "request refused"
            )
        };
    }
    if rejection.status() >= 500 {
        report!(tracing::Level::WARN);
    } else {
        report!(tracing::Level::INFO);
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn rejected(_: &Rejection) {}

/// The span around one synchronous check, entered until the guard is dropped.
#[cfg(feature = "tracing")]
pub(crate) fn enter_check(method: &str) -> tracing::span::EnteredSpan {
    check_span(method).entered()
}

/// Without the feature: nothing to enter.
#[cfg(not(feature = "tracing"))]
pub(crate) struct NoSpan;

#[cfg(not(feature = "tracing"))]
pub(crate) fn enter_check(_: &str) -> NoSpan {
    NoSpan
}

/// `check` run inside the span of one check.
#[cfg(feature = "tracing")]
pub(crate) fn in_check_span<F: core::future::Future>(
    method: &str,
    check: F,
) -> impl core::future::Future<Output = F::Output> {
    tracing::Instrument::instrument(check, check_span(method))
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn in_check_span<F: core::future::Future>(
    _: &str,
    check: F,
) -> impl core::future::Future<Output = F::Output> {
    check
}

#[cfg(feature = "tracing")]
fn check_span(method: &str) -> tracing::Span {
    tracing::debug_span!(target: "keybound", "keybound.check", method)
}
