//! Reading an authorization server's answer with a size bound.

use zeroize::Zeroizing;

use crate::integrations::reqwest::client_error::ClientError;

/// The default bound on an authorization server's answer (token, PAR, error): 64 KiB. A token
/// response is well under 8 KiB even with an ID token; a longer answer is refused
/// ([`ClientError::ResponseTooLarge`]) without reading the rest.
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;

/// The body of `response`, refused as soon as it is known to exceed `limit` bytes: from
/// `Content-Length` before reading, or while reading a body of unannounced length. The body
/// may hold tokens, so it is zeroized on drop.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    let too_large = ClientError::ResponseTooLarge { limit };
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large);
    }
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
