//! [`HttpTransport`] for `reqwest::Client`: timeouts and a body limit enforced while reading.

use crate::error::UpstreamError;
use crate::remote_issuer::transport::{HttpMethod, HttpResponse, HttpTransport, OutgoingRequest};
use crate::token::key_slot::BoxFuture;

impl HttpTransport for reqwest::Client {
    fn send<'a>(
        &'a self,
        request: OutgoingRequest<'a>,
    ) -> BoxFuture<'a, Result<HttpResponse, UpstreamError>> {
        Box::pin(async move {
            let method = match request.method {
                HttpMethod::Get => reqwest::Method::GET,
                HttpMethod::Post => reqwest::Method::POST,
            };
            let mut builder = self
                .request(method, request.url)
                .timeout(request.timeout)
                .body(request.body.to_vec());
            for (name, value) in request.headers {
                builder = builder.header(*name, *value);
            }
            let exchange = async {
                let mut response = builder
                    .send()
                    .await
                    .map_err(|_| UpstreamError::Unreachable)?;
                if response
                    .content_length()
                    .is_some_and(|len| len > request.max_body as u64)
                {
                    return Err(UpstreamError::TooLarge);
                }
                let cache_control = {
                    let values: Vec<&str> = response
                        .headers()
                        .get_all(http::header::CACHE_CONTROL)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect();
                    (!values.is_empty()).then(|| values.join(", "))
                };
                let status = response.status().as_u16();
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|_| UpstreamError::Unreachable)?
                {
                    if body.len() + chunk.len() > request.max_body {
                        return Err(UpstreamError::TooLarge);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(HttpResponse {
                    status,
                    cache_control,
                    body,
                })
            };
            // reqwest's own timeout covers the body too; this one also covers a transport
            // whose timeout was not set.
            tokio::time::timeout(request.timeout, exchange)
                .await
                .map_err(|_| UpstreamError::Unreachable)?
        })
    }
}
