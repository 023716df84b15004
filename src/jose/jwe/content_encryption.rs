//! Content encryption (RFC 7518 §5): AES-GCM and AES-CBC with HMAC-SHA-2.
//!
//! The primitives come through the JWE seam (`primitives/`: RustCrypto by default, aws-lc-rs
//! under feature `aws-lc`); this file fixes the key, IV and tag sizes, splits the CBC key
//! (RFC 7518 §5.2.2.1), builds the CBC authentication input and checks the tag before any
//! decryption (§5.2.2.1 steps 5–6, §5.2.2.2).

use zeroize::Zeroizing;

use crate::error::JweError;
use crate::jose::jwe::primitives::{self, MacHash};

/// The AES block, and the AES-GCM tag, in bytes.
const BLOCK_LEN: usize = 16;

/// A JWE content encryption algorithm (the `enc` header, RFC 7518 §5) this crate supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// `A128GCM` (RFC 7518 §5.3): AES-128 in GCM.
    A128Gcm,
    /// `A256GCM` (RFC 7518 §5.3): AES-256 in GCM.
    A256Gcm,
    /// `A128CBC-HS256` (RFC 7518 §5.2.3): AES-128-CBC with HMAC-SHA-256.
    A128CbcHs256,
    /// `A256CBC-HS512` (RFC 7518 §5.2.5): AES-256-CBC with HMAC-SHA-512.
    A256CbcHs512,
}

/// What sealing produced: the three JWE segments besides the header and the encrypted key.
pub(crate) struct Sealed {
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) tag: Vec<u8>,
}

impl ContentEncryption {
    /// The `enc` name's algorithm, if supported (exact, case-sensitive names).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "A128GCM" => Some(Self::A128Gcm),
            "A256GCM" => Some(Self::A256Gcm),
            "A128CBC-HS256" => Some(Self::A128CbcHs256),
            "A256CBC-HS512" => Some(Self::A256CbcHs512),
            _ => None,
        }
    }

    /// The registered `enc` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::A128Gcm => "A128GCM",
            Self::A256Gcm => "A256GCM",
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// The content encryption key's length in bytes: 16, 32, 32, 64.
    pub(crate) const fn key_len(self) -> usize {
        match self {
            Self::A128Gcm => 16,
            Self::A256Gcm | Self::A128CbcHs256 => 32,
            Self::A256CbcHs512 => 64,
        }
    }

    /// The IV's length in bytes: 12 (GCM), 16 (CBC).
    pub(crate) const fn iv_len(self) -> usize {
        match self {
            Self::A128Gcm | Self::A256Gcm => 12,
            Self::A128CbcHs256 | Self::A256CbcHs512 => 16,
        }
    }

    /// Encrypts `plaintext` with `cek` (exactly [`key_len`](Self::key_len) bytes) and `iv`
    /// (exactly [`iv_len`](Self::iv_len) bytes), authenticating `aad` (the ASCII of the
    /// encoded protected header).
    pub(crate) fn seal(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Sealed, JweError> {
        self.check_lengths(cek, iv)?;
        match self.mac_hash() {
            None => {
                let (ciphertext, tag) = primitives::aes_gcm_seal(cek, iv, aad, plaintext)?;
                Ok(Sealed { ciphertext, tag })
            }
            Some(hash) => cbc_hmac_seal(hash, cek, iv, aad, plaintext),
        }
    }

    /// Decrypts and authenticates. Any failure (lengths, tag, padding) is
    /// [`JweError::DecryptionFailed`]; the tag is compared in constant time and, for CBC, checked
    /// before any decryption (RFC 7518 §5.2.2.2).
    pub(crate) fn open(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        self.check_lengths(cek, iv)?;
        match self.mac_hash() {
            None => {
                // Exactly 16 bytes: a truncated GCM tag is refused, not compared on its prefix.
                if tag.len() != BLOCK_LEN {
                    return Err(JweError::DecryptionFailed);
                }
                primitives::aes_gcm_open(cek, iv, aad, ciphertext, tag)
            }
            Some(hash) => cbc_hmac_open(hash, cek, iv, aad, ciphertext, tag),
        }
    }

    /// The HMAC hash of the CBC algorithms; `None` for AES-GCM.
    const fn mac_hash(self) -> Option<MacHash> {
        match self {
            Self::A128Gcm | Self::A256Gcm => None,
            Self::A128CbcHs256 => Some(MacHash::Sha256),
            Self::A256CbcHs512 => Some(MacHash::Sha512),
        }
    }

    /// The CEK and IV lengths are exactly this algorithm's (RFC 7518 §5.2.3–§5.2.5, §5.3).
    fn check_lengths(self, cek: &[u8], iv: &[u8]) -> Result<(), JweError> {
        if cek.len() == self.key_len() && iv.len() == self.iv_len() {
            Ok(())
        } else {
            Err(JweError::DecryptionFailed)
        }
    }
}

/// Splits a CBC-HMAC key: `MAC_KEY` is the first half, `ENC_KEY` the second (RFC 7518
/// §5.2.2.1 step 1). Both are borrowed from the caller's CEK, so no copy of either is left.
fn split_key(cek: &[u8]) -> (&[u8], &[u8]) {
    cek.split_at(cek.len() / 2)
}

/// AL, the AAD's length in bits as a 64-bit big-endian integer (RFC 7518 §5.2.2.1 step 4):
/// the HMAC input is `AAD || IV || ciphertext || AL` (step 5).
fn aad_length(aad: &[u8]) -> Result<[u8; 8], JweError> {
    u64::try_from(aad.len())
        .ok()
        .and_then(|bytes| bytes.checked_mul(8))
        .map(u64::to_be_bytes)
        .ok_or(JweError::DecryptionFailed)
}

/// AES-CBC-HMAC-SHA-2 encryption (RFC 7518 §5.2.2.1): PKCS#7-padded AES-CBC with `ENC_KEY`,
/// then the tag is the first half of the HMAC (`T_LEN` = the MAC key's length).
fn cbc_hmac_seal(
    hash: MacHash,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed, JweError> {
    let (mac_key, enc_key) = split_key(cek);
    let ciphertext = primitives::aes_cbc_encrypt(enc_key, iv, plaintext)?;
    let al = aad_length(aad)?;
    let tag =
        primitives::hmac_truncated(hash, mac_key, &[aad, iv, &ciphertext, &al], mac_key.len())?;
    Ok(Sealed { ciphertext, tag })
}

/// AES-CBC-HMAC-SHA-2 decryption (RFC 7518 §5.2.2.2): the tag must be exactly `T_LEN` bytes and
/// equal, in constant time, to the first half of the HMAC; only then is anything decrypted, and a
/// ciphertext that is not whole blocks or a bad padding is the same opaque error.
fn cbc_hmac_open(
    hash: MacHash,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let (mac_key, enc_key) = split_key(cek);
    // A prefix comparison takes whatever length it is given, so the length is pinned here: a
    // shortened (or full-length) HMAC is not a valid tag.
    if tag.len() != mac_key.len() {
        return Err(JweError::DecryptionFailed);
    }
    let al = aad_length(aad)?;
    primitives::hmac_verify_truncated(hash, mac_key, &[aad, iv, ciphertext, &al], tag)?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(JweError::DecryptionFailed);
    }
    primitives::aes_cbc_decrypt(enc_key, iv, ciphertext)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    // The reference computations are RustCrypto's under both backends, so under `aws-lc` they
    // check aws-lc-rs against an independent implementation.
    use cbc::cipher::block_padding::NoPadding;
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
    use hmac::{Hmac, KeyInit, Mac};
    use serde_json::Value;
    use sha2::{Sha256, Sha512};

    use super::*;

    type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
    type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
    use crate::jose::jwe::test_data::{b64, data, hex};

    const ALL: [ContentEncryption; 4] = [
        ContentEncryption::A128Gcm,
        ContentEncryption::A256Gcm,
        ContentEncryption::A128CbcHs256,
        ContentEncryption::A256CbcHs512,
    ];
    const CBC: [ContentEncryption; 2] = [
        ContentEncryption::A128CbcHs256,
        ContentEncryption::A256CbcHs512,
    ];
    const GCM: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

    fn random(len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        getrandom::fill(&mut bytes).unwrap();
        bytes
    }

    /// `seal` gives exactly `ciphertext` and `tag`, and `open` gives `plaintext` back.
    fn check_vector(
        enc: ContentEncryption,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) {
        let sealed = enc.seal(cek, iv, aad, plaintext).unwrap();
        assert_eq!(sealed.ciphertext, ciphertext, "{} ciphertext", enc.as_str());
        assert_eq!(sealed.tag, tag, "{} tag", enc.as_str());
        let opened = enc.open(cek, iv, aad, ciphertext, tag).unwrap();
        assert_eq!(opened.as_slice(), plaintext, "{} plaintext", enc.as_str());
    }

    /// The first `T_LEN` bytes of HMAC(MAC_KEY, AAD || IV || E || AL), computed here without
    /// the code under test, to build ciphertexts that `seal` would never produce.
    fn reference_tag(
        enc: ContentEncryption,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        e: &[u8],
    ) -> Vec<u8> {
        let (mac_key, _) = cek.split_at(cek.len() / 2);
        let al = (aad.len() as u64 * 8).to_be_bytes();
        let full = match enc {
            ContentEncryption::A128CbcHs256 => {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key).unwrap();
                for part in [aad, iv, e, &al] {
                    mac.update(part);
                }
                mac.finalize().into_bytes().to_vec()
            }
            ContentEncryption::A256CbcHs512 => {
                let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(mac_key).unwrap();
                for part in [aad, iv, e, &al] {
                    mac.update(part);
                }
                mac.finalize().into_bytes().to_vec()
            }
            _ => unreachable!("CBC only"),
        };
        full[..mac_key.len()].to_vec()
    }

    /// AES-CBC with `ENC_KEY` and no padding at all: the caller chooses the last block.
    fn raw_cbc(enc: ContentEncryption, cek: &[u8], iv: &[u8], blocks: &[u8]) -> Vec<u8> {
        let (_, enc_key) = cek.split_at(cek.len() / 2);
        match enc {
            ContentEncryption::A128CbcHs256 => Aes128CbcEnc::new_from_slices(enc_key, iv)
                .unwrap()
                .encrypt_padded_vec::<NoPadding>(blocks),
            ContentEncryption::A256CbcHs512 => Aes256CbcEnc::new_from_slices(enc_key, iv)
                .unwrap()
                .encrypt_padded_vec::<NoPadding>(blocks),
            _ => unreachable!("CBC only"),
        }
    }

    #[test]
    fn names_are_exact() {
        for enc in ALL {
            assert_eq!(ContentEncryption::from_name(enc.as_str()), Some(enc));
        }
        for name in [
            "A192GCM",
            "A192CBC-HS384",
            "a128gcm",
            "A128gcm",
            "a256cbc-hs512",
            "A128GCM ",
            " A256GCM",
            "A128GCM\0",
            "A128CBC-H256",
            "A128CBC_HS256",
            "A128KW",
            "A128GCMKW",
            "dir",
            "none",
            "",
        ] {
            assert_eq!(ContentEncryption::from_name(name), None, "{name:?}");
        }
        let sizes: Vec<_> = ALL.iter().map(|e| (e.key_len(), e.iv_len())).collect();
        assert_eq!(sizes, [(16, 12), (32, 12), (32, 16), (64, 16)]);
    }

    /// RFC 7516 Appendix B (the A.3 example's content encryption): A128CBC-HS256.
    #[test]
    fn rfc7516_appendix_b_a128cbc_hs256() {
        let cek = [
            4, 211, 31, 197, 84, 157, 252, 254, 11, 100, 157, 250, 63, 170, 106, 206, 107, 124,
            212, 45, 111, 107, 9, 219, 200, 177, 0, 240, 143, 156, 44, 207,
        ];
        let iv = [
            3, 22, 60, 12, 43, 67, 104, 105, 108, 108, 105, 99, 111, 116, 104, 101,
        ];
        let aad = b"eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";
        let ciphertext = [
            40, 57, 83, 181, 119, 33, 133, 148, 198, 185, 243, 24, 152, 230, 6, 75, 129, 223, 127,
            19, 210, 82, 183, 230, 168, 33, 215, 104, 143, 112, 56, 102,
        ];
        let tag = [
            83, 73, 191, 98, 104, 205, 211, 128, 201, 189, 199, 133, 32, 38, 194, 85,
        ];
        check_vector(
            ContentEncryption::A128CbcHs256,
            &cek,
            &iv,
            aad,
            b"Live long and prosper.",
            &ciphertext,
            &tag,
        );
    }

    // RFC 7518 Appendix B: P, IV and A are shared by B.1–B.3.
    const B_PLAINTEXT: &[u8] = b"A cipher system must not be required to be secret, and it must \
        be able to fall into the hands of the enemy without inconvenience";
    const B_IV: &str = "1a f3 8c 2d c2 b9 6f fd d8 66 94 09 23 41 bc 04";
    const B_AAD: &[u8] = b"The second principle of Auguste Kerckhoffs";

    /// RFC 7518 Appendix B.1: AES_128_CBC_HMAC_SHA_256.
    #[test]
    fn rfc7518_b1_aes_128_cbc_hmac_sha_256() {
        let k = hex("000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f");
        let e = hex("
            c8 0e df a3 2d df 39 d5 ef 00 c0 b4 68 83 42 79
            a2 e4 6a 1b 80 49 f7 92 f7 6b fe 54 b9 03 a9 c9
            a9 4a c9 b4 7a d2 65 5c 5f 10 f9 ae f7 14 27 e2
            fc 6f 9b 3f 39 9a 22 14 89 f1 63 62 c7 03 23 36
            09 d4 5a c6 98 64 e3 32 1c f8 29 35 ac 40 96 c8
            6e 13 33 14 c5 40 19 e8 ca 79 80 df a4 b9 cf 1b
            38 4c 48 6f 3a 54 c5 10 78 15 8e e5 d7 9d e5 9f
            bd 34 d8 48 b3 d6 95 50 a6 76 46 34 44 27 ad e5
            4b 88 51 ff b5 98 f7 f8 00 74 b9 47 3c 82 e2 db");
        let t = hex("65 2c 3f a3 6b 0a 7c 5b 32 19 fa b3 a3 0b c1 c4");
        let iv = hex(B_IV);
        let enc = ContentEncryption::A128CbcHs256;
        check_vector(enc, &k, &iv, B_AAD, B_PLAINTEXT, &e, &t);
    }

    /// RFC 7518 Appendix B.3: AES_256_CBC_HMAC_SHA_512 (B.2, the 192-bit one, is not supported).
    #[test]
    fn rfc7518_b3_aes_256_cbc_hmac_sha_512() {
        let k = hex("
            00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
            10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
            20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f
            30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f");
        let e = hex("
            4a ff aa ad b7 8c 31 c5 da 4b 1b 59 0d 10 ff bd
            3d d8 d5 d3 02 42 35 26 91 2d a0 37 ec bc c7 bd
            82 2c 30 1d d6 7c 37 3b cc b5 84 ad 3e 92 79 c2
            e6 d1 2a 13 74 b7 7f 07 75 53 df 82 94 10 44 6b
            36 eb d9 70 66 29 6a e6 42 7e a7 5c 2e 08 46 a1
            1a 09 cc f5 37 0d c8 0b fe cb ad 28 c7 3f 09 b3
            a3 b7 5e 66 2a 25 94 41 0a e4 96 b2 e2 e6 60 9e
            31 e6 e0 2c c8 37 f0 53 d2 1f 37 ff 4f 51 95 0b
            be 26 38 d0 9d d7 a4 93 09 30 80 6d 07 03 b1 f6");
        let t = hex("
            4d d3 b4 c0 88 a7 f4 5c 21 68 39 64 5b 20 12 bf
            2e 62 69 a8 c5 6a 81 6d bc 1b 26 77 61 95 5b c5");
        let iv = hex(B_IV);
        let enc = ContentEncryption::A256CbcHs512;
        check_vector(enc, &k, &iv, B_AAD, B_PLAINTEXT, &e, &t);
    }

    /// RFC 7520 §5.1–§5.13 (tests/data/jose-cookbook/jwe): each example's CEK, IV and AAD
    /// give its ciphertext and tag, and back its plaintext.
    #[test]
    fn rfc7520_cookbook_examples() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jose-cookbook/jwe");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        let mut by_enc = BTreeMap::new();
        for path in &paths {
            let example: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let generated = &example["generated"];
            let content = &example["encrypting_content"];
            let name = content["protected"]["enc"]
                .as_str()
                .or_else(|| content["unprotected"]["enc"].as_str())
                .unwrap();
            let enc = ContentEncryption::from_name(name).unwrap();
            // The CEK: generated, agreed by ECDH-ES (§5.5), or the direct key (§5.6).
            let cek = generated["cek"]
                .as_str()
                .or_else(|| example["encrypting_key"]["cek"].as_str())
                .or_else(|| example["input"]["key"]["k"].as_str())
                .unwrap();
            let iv = b64(generated["iv"].as_str().unwrap());
            // RFC 7516 §5.1 step 14: the encoded protected header, then `.` and the encoded
            // JWE AAD when there is one (§5.10).
            let mut aad = content["protected_b64u"].as_str().unwrap_or("").to_owned();
            if let Some(extra) = generated["aad_b64u"].as_str() {
                aad.push('.');
                aad.push_str(extra);
            }
            // §5.9 encrypts the DEFLATEd plaintext.
            let plaintext = match generated["plaintext_c"].as_str() {
                Some(compressed) => b64(compressed),
                None => example["input"]["plaintext"]
                    .as_str()
                    .unwrap()
                    .as_bytes()
                    .to_vec(),
            };
            check_vector(
                enc,
                &b64(cek),
                &iv,
                aad.as_bytes(),
                &plaintext,
                &b64(content["ciphertext"].as_str().unwrap()),
                &b64(content["tag"].as_str().unwrap()),
            );
            *by_enc.entry(enc.as_str()).or_insert(0) += 1;
        }
        let expected = BTreeMap::from([("A128CBC-HS256", 5), ("A128GCM", 7), ("A256GCM", 1)]);
        assert_eq!(by_enc, expected);
    }

    /// Wycheproof `aes_gcm_test.json` (tests/data/wycheproof): every case with a 96-bit IV, a
    /// 128- or 256-bit key and a 128-bit tag is run through `open` (valid: its plaintext;
    /// invalid: `DecryptionFailed`) and, when valid, `seal`. The other cases use parameters JWE
    /// does not have (RFC 7518 §5.3 fixes the IV at 96 bits; 192-bit keys are `A192GCM`): they
    /// must be refused by both supported GCM variants.
    #[test]
    fn wycheproof_aes_gcm() {
        let file = data("wycheproof/aes_gcm_test.json");
        assert_eq!(file["algorithm"], "AES-GCM");
        let (mut valid, mut invalid, mut unsupported) = (0, 0, 0);
        for group in file["testGroups"].as_array().unwrap() {
            let enc = match (&group["keySize"], &group["ivSize"], &group["tagSize"]) {
                (k, i, t) if k == 128 && i == 96 && t == 128 => Some(ContentEncryption::A128Gcm),
                (k, i, t) if k == 256 && i == 96 && t == 128 => Some(ContentEncryption::A256Gcm),
                _ => None,
            };
            for case in group["tests"].as_array().unwrap() {
                let field = |name: &str| hex(case[name].as_str().unwrap());
                let (key, iv, aad) = (field("key"), field("iv"), field("aad"));
                let (msg, ct, tag) = (field("msg"), field("ct"), field("tag"));
                let id = &case["tcId"];
                let Some(enc) = enc else {
                    for enc in GCM {
                        let result = enc.open(&key, &iv, &aad, &ct, &tag);
                        assert_eq!(result, Err(JweError::DecryptionFailed), "tcId {id}");
                    }
                    unsupported += 1;
                    continue;
                };
                let opened = enc.open(&key, &iv, &aad, &ct, &tag);
                match case["result"].as_str().unwrap() {
                    "valid" => {
                        assert_eq!(opened.unwrap().as_slice(), msg, "tcId {id}");
                        let sealed = enc.seal(&key, &iv, &aad, &msg).unwrap();
                        assert_eq!((sealed.ciphertext, sealed.tag), (ct, tag), "tcId {id}");
                        valid += 1;
                    }
                    "invalid" => {
                        assert_eq!(opened, Err(JweError::DecryptionFailed), "tcId {id}");
                        invalid += 1;
                    }
                    other => panic!("tcId {id}: unexpected result {other}"),
                }
            }
        }
        eprintln!("wycheproof aes_gcm: {valid} valid + {invalid} invalid run, {unsupported} refused as unsupported");
        assert_eq!((valid, invalid, unsupported), (79, 54, 183));
        assert_eq!(file["numberOfTests"], valid + invalid + unsupported);
    }

    /// One bit flipped anywhere in the ciphertext, tag, IV, AAD or key: `DecryptionFailed`.
    ///
    /// The one exception is CBC's `ENC_KEY` half: RFC 7518 §5.2 authenticates with `MAC_KEY`
    /// only, so a wrong `ENC_KEY` passes the tag and decrypts to garbage, which is refused
    /// only when its padding is bad (about 255 times in 256). It must never give the plaintext.
    #[test]
    fn flipped_bits_are_refused() {
        for enc in ALL {
            let cek = random(enc.key_len());
            let iv = random(enc.iv_len());
            let aad = random(20);
            let plaintext = random(40);
            let sealed = enc.seal(&cek, &iv, &aad, &plaintext).unwrap();
            let mut inputs = [cek, iv, aad, sealed.ciphertext, sealed.tag];
            let [cek, iv, aad, ciphertext, tag] = &inputs;
            assert_eq!(
                enc.open(cek, iv, aad, ciphertext, tag).unwrap().as_slice(),
                plaintext
            );
            let enc_key_half = CBC.contains(&enc);
            for which in 0..inputs.len() {
                for index in 0..inputs[which].len() {
                    let bit = 1 << (index % 8);
                    inputs[which][index] ^= bit;
                    let [cek, iv, aad, ciphertext, tag] = &inputs;
                    let result = enc.open(cek, iv, aad, ciphertext, tag);
                    let context = format!("{} input {which} byte {index}", enc.as_str());
                    if which == 0 && enc_key_half && index >= enc.key_len() / 2 {
                        if let Ok(garbage) = result {
                            assert_ne!(garbage.as_slice(), plaintext, "{context}");
                        }
                    } else {
                        assert_eq!(result, Err(JweError::DecryptionFailed), "{context}");
                    }
                    inputs[which][index] ^= bit;
                }
            }
        }
    }

    /// A tag that is a prefix of the right one, or longer than `T_LEN` (up to the whole HMAC),
    /// is refused: the comparison does not shrink to the length the attacker sent.
    #[test]
    fn tag_length_is_exact() {
        for enc in ALL {
            let cek = random(enc.key_len());
            let iv = random(enc.iv_len());
            let sealed = enc.seal(&cek, &iv, b"aad", b"some plaintext").unwrap();
            let ct = &sealed.ciphertext;
            let tag = &sealed.tag;
            let expected_len = if enc == ContentEncryption::A256CbcHs512 {
                32
            } else {
                16
            };
            assert_eq!(tag.len(), expected_len);
            for len in [0, 1, tag.len() / 2, tag.len() - 1] {
                let result = enc.open(&cek, &iv, b"aad", ct, &tag[..len]);
                assert_eq!(
                    result,
                    Err(JweError::DecryptionFailed),
                    "{} {len}",
                    enc.as_str()
                );
            }
            let mut longer = tag.clone();
            longer.push(0);
            let result = enc.open(&cek, &iv, b"aad", ct, &longer);
            assert_eq!(result, Err(JweError::DecryptionFailed), "{}", enc.as_str());
        }
        // For CBC, the untruncated HMAC is exactly what a "verify the given prefix" check
        // would accept.
        for enc in CBC {
            let cek = random(enc.key_len());
            let iv = random(enc.iv_len());
            let sealed = enc.seal(&cek, &iv, b"aad", b"some plaintext").unwrap();
            let (mac_key, _) = cek.split_at(cek.len() / 2);
            let al = (3u64 * 8).to_be_bytes();
            let full = match enc {
                ContentEncryption::A128CbcHs256 => {
                    <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
                        .unwrap()
                        .chain_update(b"aad")
                        .chain_update(&iv)
                        .chain_update(&sealed.ciphertext)
                        .chain_update(al)
                        .finalize()
                        .into_bytes()
                        .to_vec()
                }
                _ => <Hmac<Sha512> as KeyInit>::new_from_slice(mac_key)
                    .unwrap()
                    .chain_update(b"aad")
                    .chain_update(&iv)
                    .chain_update(&sealed.ciphertext)
                    .chain_update(al)
                    .finalize()
                    .into_bytes()
                    .to_vec(),
            };
            assert_eq!(full[..sealed.tag.len()], sealed.tag[..]);
            let result = enc.open(&cek, &iv, b"aad", &sealed.ciphertext, &full);
            assert_eq!(result, Err(JweError::DecryptionFailed), "{}", enc.as_str());
        }
    }

    /// A correctly authenticated CBC ciphertext whose last block does not end in valid PKCS#7
    /// padding, or that is not whole blocks, is `DecryptionFailed` too (the same error as a bad
    /// tag, so no padding oracle).
    #[test]
    fn cbc_bad_padding_under_a_valid_tag_is_refused() {
        for enc in CBC {
            let cek = random(enc.key_len());
            let iv = random(16);
            let aad = b"protected header";
            let mut block = [0x41u8; 32];
            let open_with_last = |tail: &[u8], block: &mut [u8; 32]| {
                block[32 - tail.len()..].copy_from_slice(tail);
                let e = raw_cbc(enc, &cek, &iv, block);
                let tag = reference_tag(enc, &cek, &iv, aad, &e);
                enc.open(&cek, &iv, aad, &e, &tag)
            };
            // The construction itself is right: valid paddings open.
            assert_eq!(
                open_with_last(&[1], &mut block).unwrap().as_slice(),
                &[0x41; 31][..]
            );
            assert_eq!(open_with_last(&[16; 16], &mut block).unwrap().len(), 16);
            for tail in [
                &[0u8][..], // pad length 0
                &[17],      // longer than a block
                &[0xff],    // far longer than a block
                &[3, 3, 2], // bytes disagree with the length
                &[1, 2],    // ends in 2, but the byte before is 1
                &[
                    15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
                ], // one off
            ] {
                let mut block = [0x41u8; 32];
                let result = open_with_last(tail, &mut block);
                assert_eq!(
                    result,
                    Err(JweError::DecryptionFailed),
                    "{} {tail:?}",
                    enc.as_str()
                );
            }
            // Not whole blocks, or empty, under a valid tag.
            for e in [random(17), random(1), Vec::new()] {
                let tag = reference_tag(enc, &cek, &iv, aad, &e);
                let result = enc.open(&cek, &iv, aad, &e, &tag);
                assert_eq!(
                    result,
                    Err(JweError::DecryptionFailed),
                    "{} {}",
                    enc.as_str(),
                    e.len()
                );
            }
        }
    }

    /// A CEK or IV of any other length than the algorithm's: `DecryptionFailed` from both
    /// `seal` and `open`, never a panic.
    #[test]
    fn wrong_key_or_iv_length_is_refused() {
        for enc in ALL {
            let cek = random(enc.key_len());
            let iv = random(enc.iv_len());
            let sealed = enc.seal(&cek, &iv, b"", b"plaintext").unwrap();
            let (ct, tag) = (&sealed.ciphertext, &sealed.tag);
            for len in [0, 1, 16, 24, 31, 32, 33, 48, 63, 64, 65, 128] {
                if len == enc.key_len() {
                    continue;
                }
                // A longer key whose prefix is the right one must not be accepted either.
                let mut key = cek.clone();
                key.resize(len, 0);
                let name = enc.as_str();
                assert_eq!(
                    enc.open(&key, &iv, b"", ct, tag),
                    Err(JweError::DecryptionFailed),
                    "{name} {len}"
                );
                assert!(
                    enc.seal(&key, &iv, b"", b"plaintext").is_err(),
                    "{name} {len}"
                );
            }
            for len in [0, 1, 8, 11, 13, 15, 16, 17, 32] {
                if len == enc.iv_len() {
                    continue;
                }
                let mut nonce = iv.clone();
                nonce.resize(len, 0);
                let name = enc.as_str();
                assert_eq!(
                    enc.open(&cek, &nonce, b"", ct, tag),
                    Err(JweError::DecryptionFailed),
                    "{name} {len}"
                );
                assert!(
                    enc.seal(&cek, &nonce, b"", b"plaintext").is_err(),
                    "{name} {len}"
                );
            }
        }
    }

    /// Random CEK, IV, AAD and plaintext of many lengths, for all four.
    #[test]
    fn round_trips_with_random_keys() {
        for enc in ALL {
            for len in [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
                let cek = random(enc.key_len());
                let iv = random(enc.iv_len());
                let aad = random(len % 50);
                let plaintext = random(len);
                let sealed = enc.seal(&cek, &iv, &aad, &plaintext).unwrap();
                let expected_len = match enc {
                    ContentEncryption::A128Gcm | ContentEncryption::A256Gcm => len,
                    _ => (len / 16 + 1) * 16,
                };
                assert_eq!(
                    sealed.ciphertext.len(),
                    expected_len,
                    "{} {len}",
                    enc.as_str()
                );
                // (From 16 bytes up, an unchanged prefix cannot happen by chance.)
                if len >= 16 {
                    assert_ne!(sealed.ciphertext[..len], plaintext[..], "{}", enc.as_str());
                }
                let opened = enc
                    .open(&cek, &iv, &aad, &sealed.ciphertext, &sealed.tag)
                    .unwrap();
                assert_eq!(opened.as_slice(), plaintext, "{} {len}", enc.as_str());
            }
        }
    }
}
