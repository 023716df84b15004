//! `RequestGuard::check` on arbitrary `Authorization` and `DPoP` header lists.
//!
//! The guard trusts the fixture issuer key (`keybound_fuzz::ISSUER_JWK`) for
//! `iss = https://as.example.com`, `aud = https://api.example.com`.
//!
//! Input: `flags` byte, then the mode's data. `flags`: bit 0 = mode; bits 1-4 pick the time
//! (`keybound_fuzz::TIMES`; index 0 is the fixtures' NOW); bit 5 = accept bearer tokens;
//! bit 6 = with a realm; bit 7 = token cache disabled.
//!
//! Mode 0 (raw): fields separated by 0xFF: method, URL, then one field per header value whose
//! first byte says which header (even: `Authorization`, odd: `DPoP`); the rest is the value.
//!
//! Mode 1 (mutate a valid request): starts from the valid request `GET RESOURCE_URL`,
//! `Authorization: DPoP TOKEN`, `DPoP: RESOURCE_PROOF` and applies 4-byte edit operations
//! `[op, pos_lo, pos_hi, value]` to it (see `apply`).
//!
//! Properties: no panic; every rejection has a 400/401/403/503 status and a non-empty
//! `WWW-Authenticate` value without control characters (no header injection) and no
//! `DPoP-Nonce` (no nonce policy); an authorized request is DPoP-bound to the fixture client key
//! and the same request a second time is refused as a replay; the unmodified valid request
//! at NOW is authorized (the harness itself works).
#![no_main]

use keybound::{Error, ProofError, RequestGuard, ResourceRequest, Scheme, UnixTime};
use keybound_fuzz::{
    client_key, fields, guard, is_safe_header_value, pick_now, RESOURCE_METHOD,
    RESOURCE_PROOF, RESOURCE_URL, TOKEN,
};
use libfuzzer_sys::fuzz_target;

/// Bytes worth splicing into header values and URLs.
const INTERESTING: [u8; 16] = [
    b',', b' ', b'\t', b'.', b'=', b'%', b'/', b'?', b'#', b'\n', b'\r', 0, b'"', b'\\', b'~', b'+',
];

#[derive(PartialEq, Eq)]
struct Request {
    method: Vec<u8>,
    url: Vec<u8>,
    authorization: Vec<Vec<u8>>,
    dpop: Vec<Vec<u8>>,
}

impl Request {
    fn valid() -> Self {
        Self {
            method: RESOURCE_METHOD.as_bytes().to_vec(),
            url: RESOURCE_URL.as_bytes().to_vec(),
            authorization: vec![format!("DPoP {TOKEN}").into_bytes()],
            dpop: vec![RESOURCE_PROOF.as_bytes().to_vec()],
        }
    }

    /// One edit: `op & 3` picks the target (0 the first Authorization value, 1 the first DPoP
    /// value, 2 the URL, 3 the method), `(op >> 2) & 7` the edit.
    fn apply(&mut self, op: u8, pos: usize, value: u8) {
        let kind = (op >> 2) & 7;
        let list = match op & 3 {
            0 => Some(&mut self.authorization),
            1 => Some(&mut self.dpop),
            _ => None,
        };
        let target: &mut Vec<u8> = match list {
            Some(list) => {
                match kind {
                    // Duplicate the first header value (or restore one).
                    4 => {
                        let first = list.first().cloned().unwrap_or_default();
                        list.push(first);
                        return;
                    }
                    // Drop the header entirely.
                    5 => {
                        list.clear();
                        return;
                    }
                    _ => {}
                }
                if list.is_empty() {
                    list.push(Vec::new());
                }
                &mut list[0]
            }
            None if op & 3 == 2 => &mut self.url,
            None => &mut self.method,
        };
        let len = target.len();
        match kind {
            0 if len > 0 => target[pos % len] = value,
            1 => target.insert(pos % (len + 1), value),
            2 if len > 0 => {
                target.remove(pos % len);
            }
            3 => target.truncate(pos % (len + 1)),
            4 => target.push(value),
            5 => target.clear(),
            6 if len > 0 => {
                let b = &mut target[pos % len];
                if b.is_ascii_alphabetic() {
                    *b ^= 0x20;
                }
            }
            7 if len > 0 => target[pos % len] = INTERESTING[usize::from(value & 15)],
            _ => {}
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn configure(flags: u8) -> RequestGuard {
    let mut guard = guard();
    if flags & 0x20 != 0 {
        guard = guard.with_bearer_tokens(true);
    }
    if flags & 0x40 != 0 {
        guard = guard.with_realm("fuzz").expect("a plain realm is accepted");
    }
    if flags & 0x80 != 0 {
        guard = guard.with_token_cache_capacity(0);
    }
    guard
}

fn run(flags: u8, request: &Request, now: UnixTime, must_pass: bool) {
    let guard = configure(flags);
    let method = lossy(&request.method);
    let url = lossy(&request.url);
    let authorization: Vec<String> = request.authorization.iter().map(|v| lossy(v)).collect();
    let dpop: Vec<String> = request.dpop.iter().map(|v| lossy(v)).collect();
    let authorization: Vec<&str> = authorization.iter().map(String::as_str).collect();
    let dpop: Vec<&str> = dpop.iter().map(String::as_str).collect();
    let resource_request = ResourceRequest::new(&method, &url, &authorization, &dpop);

    match guard.check(&resource_request, now) {
        Ok(authorized) => {
            assert_eq!(authorized.scheme(), Scheme::Dpop, "only DPoP-bound tokens exist here");
            assert_eq!(authorized.jkt(), Some(client_key().thumbprint()));
            assert_eq!(authorized.subject(), "alice");
            assert_eq!(authorized.client_id(), "fuzz-client");
            assert!(authorized.fresh_nonce().is_none());
            match guard.check(&resource_request, now) {
                Err(rejection)
                    if rejection.error() == &Error::InvalidProof(ProofError::Replayed) =>
                {
                    check_rejection(&rejection)
                }
                Err(rejection) => panic!("replay refused for another reason: {rejection:?}"),
                Ok(_) => panic!("the same request was authorized twice"),
            }
        }
        Err(rejection) => {
            assert!(!must_pass, "the unmodified valid request was refused: {rejection:?}");
            check_rejection(&rejection);
        }
    }
}

fn check_rejection(rejection: &keybound::Rejection) {
    assert!(
        matches!(rejection.status(), 400 | 401 | 403 | 503),
        "unexpected status {} for {:?}",
        rejection.status(),
        rejection.error()
    );
    let challenge = rejection.www_authenticate();
    assert!(!challenge.is_empty(), "empty WWW-Authenticate");
    assert!(
        is_safe_header_value(challenge),
        "WWW-Authenticate with control characters: {challenge:?}"
    );
    assert!(rejection.dpop_nonce().is_none(), "DPoP-Nonce without a nonce policy");
    let _ = format!("{} {:?}", rejection.error(), rejection.error());
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let now = pick_now(flags >> 1);
    if flags & 1 == 0 {
        let f = fields(rest);
        let mut request = Request {
            method: f.first().map(|s| s.as_bytes().to_vec()).unwrap_or_default(),
            url: f.get(1).map(|s| s.as_bytes().to_vec()).unwrap_or_default(),
            authorization: Vec::new(),
            dpop: Vec::new(),
        };
        for header in rest.split(|b| *b == keybound_fuzz::SEP).skip(2) {
            let (is_dpop, value) = match header.split_first() {
                Some((tag, value)) => (tag & 1 == 1, value),
                None => (false, header),
            };
            let list = if is_dpop { &mut request.dpop } else { &mut request.authorization };
            list.push(value.to_vec());
        }
        run(flags, &request, now, false);
    } else {
        let mut request = Request::valid();
        for op in rest.chunks_exact(4) {
            let pos = usize::from(u16::from_le_bytes([op[1], op[2]]));
            request.apply(op[0], pos, op[3]);
        }
        let must_pass = request == Request::valid() && now == keybound_fuzz::now();
        run(flags, &request, now, must_pass);
    }
});
