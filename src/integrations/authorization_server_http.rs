//! The `http` feature on the authorization-server side: the token and PAR endpoints' checks on
//! an `http::Request`, and their answers — and introspection's — as `http::Response`s with
//! the headers RFC 6749 §5.1 and RFC 9449 §8 require (`Content-Type: application/json`,
//! `Cache-Control: no-store`, `DPoP-Nonce`, `Retry-After`).

use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};

use crate::error::{Error, RequestError};
use crate::integrations::http::{header_values, insert_nonce, DPOP};
use crate::issuer::par_endpoint::ParEndpoint;
use crate::issuer::responses::ErrorResponse;
use crate::issuer::token_endpoint::{PendingProof, TokenEndpoint};
use crate::jose::thumbprint::Thumbprint;
use crate::proof::replay::{AsyncReplayStore, ReplayStore};
use crate::proof::verifier::VerifiedProof;
use crate::time::UnixTime;

/// The request's `DPoP` values, once its method is known to be `POST`.
fn post_proofs<B>(request: &http::Request<B>) -> Result<Vec<&str>, Error> {
    if request.method() != http::Method::POST {
        return Err(RequestError::MethodNotPost.into());
    }
    Ok(header_values(request.headers(), DPOP.as_str()))
}

impl<R> TokenEndpoint<R> {
    /// [`check`](Self::check) on an `http` token request: `POST` only (else `invalid_request`),
    /// every `DPoP` header value read (several are refused). Answer a failure with
    /// [`error_response`](crate::error_response)`(&error).`[`to_http_response`](ErrorResponse::to_http_response)`()`
    /// and a success with [`token_http_response`].
    pub fn check_http<B>(
        &self,
        request: &http::Request<B>,
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error>
    where
        R: ReplayStore,
    {
        self.check(&post_proofs(request)?, expected_jkt, now)
    }

    /// [`check_http`](Self::check_http) with an asynchronous replay store (Redis).
    pub async fn check_http_async<B>(
        &self,
        request: &http::Request<B>,
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error>
    where
        R: AsyncReplayStore,
    {
        let proofs = post_proofs(request)?;
        self.check_async(&proofs, expected_jkt, now).await
    }

    /// [`precheck`](Self::precheck) on an `http` token request (authenticate the client,
    /// then register the pending proof).
    pub fn precheck_http<B>(
        &self,
        request: &http::Request<B>,
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<PendingProof, Error> {
        self.precheck(&post_proofs(request)?, expected_jkt, now)
    }
}

impl<R: ReplayStore> ParEndpoint<R> {
    /// [`check`](Self::check) on an `http` pushed authorization request: `POST` only, the
    /// `DPoP` header values, and `dpop_jkt` read from the form body (at most once, RFC 6749
    /// §3.1; twice is `invalid_request`).
    pub fn check_http<B: AsRef<[u8]>>(
        &self,
        request: &http::Request<B>,
        now: UnixTime,
    ) -> Result<Option<Thumbprint>, Error> {
        let proofs = post_proofs(request)?;
        let mut declared = form_urlencoded::parse(request.body().as_ref())
            .filter(|(name, _)| name == "dpop_jkt")
            .map(|(_, value)| value);
        let dpop_jkt = declared.next();
        if declared.next().is_some() {
            return Err(RequestError::InvalidDpopJkt.into());
        }
        self.check(dpop_jkt.as_deref(), &proofs, now)
    }
}

impl ErrorResponse {
    /// [`status`](Self::status) as an `http::StatusCode`.
    pub fn status_code(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::BAD_REQUEST)
    }

    /// The answer: the status, the JSON body, `Content-Type: application/json`,
    /// `Cache-Control: no-store`, and `DPoP-Nonce` / `Retry-After` when they apply.
    pub fn to_http_response<B: From<String>>(&self) -> http::Response<B> {
        let mut response = json_response(self.status_code(), self.body.clone());
        if let Some(nonce) = &self.dpop_nonce {
            insert_nonce(response.headers_mut(), nonce);
        }
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A successful token response: 200, `body` (from [`token_response`](crate::token_response)),
/// `Content-Type: application/json`, `Cache-Control: no-store` (RFC 6749 §5.1), and the
/// fresh `DPoP-Nonce` when the endpoint's nonce rotated (RFC 9449 §8.2).
pub fn token_http_response<B: From<String>>(
    body: String,
    proof: &VerifiedProof,
) -> http::Response<B> {
    let mut response = json_response(http::StatusCode::OK, body);
    if let Some(nonce) = proof.fresh_nonce() {
        insert_nonce(response.headers_mut(), nonce);
    }
    response
}

/// A successful pushed authorization response (RFC 9126 §2.2): 201 with
/// `{"request_uri":…,"expires_in":…}`, JSON, `Cache-Control: no-store`.
pub fn par_http_response<B: From<String>>(request_uri: &str, expires_in: u64) -> http::Response<B> {
    let body = serde_json::json!({ "request_uri": request_uri, "expires_in": expires_in });
    json_response(http::StatusCode::CREATED, body.to_string())
}

/// An introspection answer (RFC 7662 §2.2): 200, `body` (from
/// [`introspect`](crate::introspect)), JSON, `Cache-Control: no-store`.
pub fn introspection_http_response<B: From<String>>(body: String) -> http::Response<B> {
    json_response(http::StatusCode::OK, body)
}

/// `status`, a JSON `body`, never cached.
fn json_response<B: From<String>>(status: http::StatusCode, body: String) -> http::Response<B> {
    let mut response = http::Response::new(B::from(body));
    *response.status_mut() = status;
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{NonceProblem, StoreError};
    use crate::issuer::responses::error_response;
    use crate::{ProofSigner, SigningKey};

    const URL: &str = "https://as.example.com/token";

    fn request(method: &str, proofs: &[&str], body: &str) -> http::Request<String> {
        let mut builder = http::Request::builder().method(method).uri("/token");
        for proof in proofs {
            builder = builder.header("DPoP", *proof);
        }
        builder.body(body.to_owned()).unwrap()
    }

    #[test]
    fn the_token_endpoint_reads_http_requests() {
        let endpoint = TokenEndpoint::new(URL);
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let now = UnixTime::from_secs(1_700_000_000);
        let proof = client.proof("POST", URL).sign(now).unwrap();
        let ok = endpoint.check_http(&request("POST", &[&proof], ""), None, now);
        assert_eq!(ok.unwrap().thumbprint(), client.thumbprint());
        // Replayed, several headers, another method: each refused.
        let again = endpoint.check_http(&request("POST", &[&proof], ""), None, now);
        assert_eq!(again.unwrap_err().reason(), "replayed");
        let fresh = client.proof("POST", URL).sign(now).unwrap();
        let two = endpoint.check_http(&request("POST", &[&fresh, &fresh], ""), None, now);
        assert_eq!(two.unwrap_err().reason(), "multiple_proofs");
        let get = endpoint.check_http(&request("GET", &[&fresh], ""), None, now);
        let error = get.unwrap_err();
        assert_eq!(error.reason(), "method_not_post");
        assert_eq!(error_response(&error).status, 400);
        // Still unused: the GET did not spend it.
        assert!(endpoint
            .precheck_http(&request("POST", &[&fresh], ""), None, now)
            .is_ok());
    }

    #[test]
    fn par_reads_dpop_jkt_from_the_form_once() {
        let endpoint = ParEndpoint::new("https://as.example.com/par");
        let now = UnixTime::from_secs(1_700_000_000);
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let jkt = client.thumbprint().to_base64url();
        let body = format!("client_id=app&dpop_jkt={jkt}&response_type=code");
        let declared = endpoint
            .check_http(&request("POST", &[], &body), now)
            .unwrap();
        assert_eq!(declared, Some(client.thumbprint()));
        let twice = format!("dpop_jkt={jkt}&dpop_jkt={jkt}");
        let refused = endpoint.check_http(&request("POST", &[], &twice), now);
        assert_eq!(refused.unwrap_err().reason(), "invalid_dpop_jkt");
        let none = endpoint.check_http(&request("POST", &[], "client_id=app"), now);
        assert_eq!(none.unwrap(), None);
    }

    #[test]
    fn answers_carry_the_required_headers() {
        let nonce = Error::UseDpopNonce {
            problem: NonceProblem::Missing,
            nonce: "n-1".into(),
        };
        let response: http::Response<String> = error_response(&nonce).to_http_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["dpop-nonce"], "n-1");
        assert!(response.body().contains("\"use_dpop_nonce\""));

        let busy = Error::Store(StoreError::KeyQuotaExceeded {
            retry_after_secs: 7,
        });
        let response: http::Response<String> = error_response(&busy).to_http_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "7");

        let par: http::Response<String> = par_http_response("urn:x", 60);
        assert_eq!(par.status(), 201);
        assert_eq!(par.headers()["cache-control"], "no-store");
        let body: serde_json::Value = serde_json::from_str(par.body()).unwrap();
        assert_eq!(body["expires_in"], 60);

        let introspection: http::Response<String> =
            introspection_http_response(r#"{"active":false}"#.into());
        assert_eq!(introspection.headers()["content-type"], "application/json");
    }
}
