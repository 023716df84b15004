#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ (the committed seed corpora).

Inputs: the fixture constants of fuzz/src/lib.rs (`pub const NAME: &str = ...;`, one line
each), tests/data/rfc/rfc9449_examples.json and tests/data/wycheproof/*.json. Each seed follows
its target's input layout (see the doc comment at the top of each fuzz_targets/*.rs): a flags
byte, then fields separated by 0xFF. Deterministic; run from anywhere:

    python3 fuzz/gen_seeds.py
"""

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

# Only for the jwe_decrypt seeds (`pip install cryptography`).
from cryptography.hazmat.primitives import hashes, hmac, keywrap, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
SEEDS = FUZZ / "seeds"
SEP = b"\xff"
MAX_SEED = 4096
MAX_PER_TARGET = 48


def constants():
    text = (FUZZ / "src" / "lib.rs").read_text()
    out = {}
    for name, raw, plain in re.findall(
        r'pub const (\w+): &str = (?:r#"(.*?)"#|"(.*?)");', text
    ):
        out[name] = raw or plain
    for name, value in re.findall(r"pub const (\w+): u64 = ([\d_]+);", text):
        out[name] = int(value.replace("_", ""))
    times = re.search(r"pub const TIMES: \[u64; 16\] = \[(.*?)\];", text, re.S).group(1)
    out["TIMES"] = [t.strip() for t in times.split(",") if t.strip()]
    return out


C = constants()
NOW = C["NOW_SECS"]
RFC = json.loads((ROOT / "tests/data/rfc/rfc9449_examples.json").read_text())
WYCHE = ROOT / "tests/data/wycheproof"


def time_index(secs):
    """Index of `secs` in TIMES (only the literal entries are looked up)."""
    table = {"NOW_SECS": NOW, "RFC_NOW_SECS": C["RFC_NOW_SECS"]}
    for i, t in enumerate(C["TIMES"]):
        value = table.get(t)
        if value is None:
            try:
                value = int(t.replace("_", ""))
            except ValueError:
                continue
        if value == secs:
            return i
    raise KeyError(secs)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seed(flags, *fields):
    return bytes([flags]) + SEP.join(f.encode() if isinstance(f, str) else f for f in fields)


def write(target, seeds):
    directory = SEEDS / target
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    assert len(seeds) <= MAX_PER_TARGET, (target, len(seeds))
    names = set()
    for name, data in seeds:
        assert name not in names, name
        names.add(name)
        assert len(data) < MAX_SEED, (target, name, len(data))
        (directory / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds")


def wycheproof_jws(limit):
    """A handful of JWS strings: the ES256 groups first, then others (all short)."""
    doc = json.loads((WYCHE / "json_web_signature_test.json").read_text())
    picked = []
    for group in doc["testGroups"]:
        for test in group["tests"]:
            if len(test["jws"]) < 1000:
                es = "ES256" in json.dumps(group.get("public", group.get("private", {})))
                picked.append((0 if es else 1, test["tcId"], test["jws"]))
    picked.sort()
    return [(tc, jws) for _, tc, jws in picked[:limit]]


def wycheproof_jwks(limit):
    doc = json.loads((WYCHE / "json_web_key_test.json").read_text())
    out = []
    for group in doc["testGroups"]:
        for part in ("private", "public"):
            value = group.get(part)
            if value is not None:
                text = json.dumps(value, separators=(",", ":"))
                if len(text) < 1500:
                    out.append((f"{group['tests'][0]['tcId']}-{part}", text))
    return out[:limit]


def proof_header(jwk=None, typ="dpop+jwt", alg="ES256", **extra):
    header = {"typ": typ, "alg": alg, "jwk": json.loads(jwk or C["CLIENT_PUBLIC_JWK"])}
    header.update(extra)
    return json.dumps(header, separators=(",", ":"))


def proof_verify():
    seeds = []
    for i, p in enumerate(RFC["proofs"]):
        token = p.get("access_token", RFC["access_token"])
        seeds.append((f"rfc-{i}", seed(time_index(p["now"]), p["proof"], p["url"], p["method"], token)))
    seeds.append(("fixture-resource", seed(0, C["RESOURCE_PROOF"], C["RESOURCE_URL"], "GET", C["TOKEN"])))
    seeds.append(("fixture-resource-late", seed(3, C["RESOURCE_PROOF"], C["RESOURCE_URL"], "GET", C["TOKEN"])))
    seeds.append(("fixture-token-endpoint", seed(0, C["TOKEN_ENDPOINT_PROOF"], C["TOKEN_ENDPOINT_URL"], "POST")))
    seeds.append(("fixture-two-headers", seed(0x20, C["TOKEN_ENDPOINT_PROOF"], C["TOKEN_ENDPOINT_URL"], "POST")))
    seeds.append(("fixture-padded", seed(0, " \t" + C["TOKEN_ENDPOINT_PROOF"] + " ", C["TOKEN_ENDPOINT_URL"], "POST")))
    ath = b64(hashlib.sha256(C["TOKEN"].encode()).digest())
    claims = lambda **kw: json.dumps(
        dict({"jti": "fuzz-jti-0001", "htm": "GET", "htu": "https://api.example.com/orders", "iat": NOW}, **kw),
        separators=(",", ":"),
    )
    url, token = C["RESOURCE_URL"], C["TOKEN"]
    signed = [
        ("signed-plain", proof_header(), claims()),
        ("signed-ath", proof_header(), claims(ath=ath)),
        ("signed-nonce", proof_header(), claims(nonce="n-0S6_WzA2Mj")),
        ("signed-float-iat", proof_header(), claims(iat=NOW + 0.5)),
        ("signed-typ-media", proof_header(typ="application/dpop+jwt"), claims()),
        ("signed-crit", proof_header(crit=["exp"]), claims()),
        ("signed-kid", proof_header(kid="k1"), claims()),
        ("signed-alg-none", proof_header(alg="none"), claims()),
        ("signed-jwk-private", proof_header(jwk=C["CLIENT_JWK"]), claims()),
        ("signed-rfc-jwk", proof_header(jwk=json.dumps(RFC["public_jwk"])), claims()),
        ("signed-htu-dots", proof_header(), claims(htu="HTTPS://API.example.com:443/a/../orders")),
        ("signed-nested", proof_header(), claims(extra={"a": [[[[{"b": 1}]]]]})),
        ("signed-unicode", proof_header(), claims(jti="\u00e9\\u0000\ud7ff")),
    ]
    for name, header, body in signed:
        seeds.append((name, seed(0x10, header, url, "GET", token, body)))
    for tc, jws in wycheproof_jws(6):
        seeds.append((f"wycheproof-jws-{tc}", seed(0, jws, C["RESOURCE_URL"], "GET")))
    write("proof_verify", seeds)


def guard_headers():
    auth = "DPoP " + C["TOKEN"]
    proof = C["RESOURCE_PROOF"]
    raw = lambda flags, method, url, *headers: seed(flags, method, url, *headers)
    A = lambda v: "\x00" + v  # Authorization
    D = lambda v: "\x01" + v  # DPoP
    seeds = [
        ("raw-valid", raw(0, "GET", C["RESOURCE_URL"], A(auth), D(proof))),
        ("raw-valid-realm-nocache", raw(0xC0, "GET", C["RESOURCE_URL"], A(auth), D(proof))),
        ("raw-bearer", raw(0x20, "GET", C["RESOURCE_URL"], A("Bearer " + C["TOKEN"]))),
        ("raw-bearer-accepted", raw(0x20, "GET", C["RESOURCE_URL"], A("Bearer " + C["TOKEN"]), D(proof))),
        ("raw-lowercase-scheme", raw(0, "GET", C["RESOURCE_URL"], A("dpop  " + C["TOKEN"]), D(proof))),
        ("raw-two-auth", raw(0, "GET", C["RESOURCE_URL"], A(auth), A(auth), D(proof))),
        ("raw-two-dpop", raw(0, "GET", C["RESOURCE_URL"], A(auth), D(proof), D(proof))),
        ("raw-folded", raw(0, "GET", C["RESOURCE_URL"], A(auth + ", Basic x"), D(proof + "," + proof))),
        ("raw-no-dpop", raw(0, "GET", C["RESOURCE_URL"], A(auth))),
        ("raw-nothing", raw(0, "GET", C["RESOURCE_URL"])),
        ("raw-rfc", raw(0, "GET", "https://resource.example.org/protectedresource",
                        A("DPoP " + RFC["access_token"]), D(RFC["proofs"][2]["proof"]))),
        ("raw-crlf", raw(0x40, "GET", C["RESOURCE_URL"], A("DPoP a\r\nSet-Cookie: x"), D("x\r\ny"))),
        ("raw-token-endpoint-proof", raw(0, "POST", C["TOKEN_ENDPOINT_URL"], A(auth), D(C["TOKEN_ENDPOINT_PROOF"]))),
    ]
    # Mutation mode: flags bit 0, bits 1-4 = time index, then [op, pos_lo, pos_hi, value]*.
    op = lambda kind, target, pos, value: bytes([(kind << 2) | target, pos & 0xFF, pos >> 8, value])
    mut = lambda flags, *ops: bytes([flags | 1]) + b"".join(ops)
    seeds += [
        ("mut-valid", mut(0)),
        ("mut-valid-realm", mut(0x40)),
        ("mut-valid-nocache", mut(0x80)),
        ("mut-valid-bearer-on", mut(0x20)),
    ]
    for index in range(1, 7):
        seeds.append((f"mut-time-{index}", mut(index << 1)))
    seeds += [
        ("mut-dup-dpop", mut(0, op(4, 1, 0, 0))),
        ("mut-dup-auth", mut(0, op(4, 0, 0, 0))),
        ("mut-drop-dpop", mut(0, op(5, 1, 0, 0))),
        ("mut-sig-byte", mut(0, op(0, 1, len(proof) - 3, ord("A")))),
        ("mut-token-byte", mut(0, op(0, 0, len(auth) - 3, ord("A")))),
        ("mut-scheme-case", mut(0, op(6, 0, 1, 0), op(6, 0, 2, 0))),
        ("mut-comma", mut(0, op(7, 1, 10, 0))),
        ("mut-url-query", mut(0, op(3, 2, len(C["RESOURCE_URL"]) - 7, 0))),
        ("mut-url-port", mut(0, op(1, 2, 23, ord(":")), op(1, 2, 24, ord("4")), op(1, 2, 25, ord("4")), op(1, 2, 26, ord("3")))),
        ("mut-method-lower", mut(0, op(6, 3, 0, 0))),
        ("mut-truncate-proof", mut(0, op(3, 1, 200, 0))),
        ("mut-space-proof", mut(0, op(1, 1, 0, ord(" ")), op(4, 1, 0, ord("\t")))),
    ]
    write("guard_headers", seeds)


def jwk_parse():
    seeds = [
        ("issuer-private", C["ISSUER_JWK"]),
        ("client-private", C["CLIENT_JWK"]),
        ("client-public", C["CLIENT_PUBLIC_JWK"]),
        ("issuer-jwks", C["ISSUER_JWKS"]),
        ("rfc-public", json.dumps(RFC["public_jwk"])),
        ("rfc-jwks", json.dumps({"keys": [RFC["public_jwk"], json.loads(C["CLIENT_PUBLIC_JWK"])]})),
        ("jwks-duplicate-kid", json.dumps({"keys": [dict(RFC["public_jwk"], kid="a"), dict(json.loads(C["CLIENT_PUBLIC_JWK"]), kid="a")]})),
        ("public-alg-use-ops", json.dumps(dict(json.loads(C["CLIENT_PUBLIC_JWK"]), alg="ES256", use="sig", key_ops=["verify"]))),
        ("private-alg-use-ops", json.dumps(dict(json.loads(C["CLIENT_JWK"]), alg="ES256", use="sig", key_ops=["sign"]))),
        ("public-duplicate-member", C["CLIENT_PUBLIC_JWK"][:-1] + ',"kty":"EC"}'),
        ("private-d-zero", json.dumps(dict(json.loads(C["CLIENT_JWK"]), d=b64(bytes(32))))),
        ("private-d-order", json.dumps(dict(json.loads(C["CLIENT_JWK"]), d="_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE"))),
        ("thumbprint-client", C["CLIENT_JKT"]),
        ("thumbprint-rfc", RFC["jwk_thumbprint"]),
        ("thumbprint-noncanonical", C["CLIENT_JKT"][:-1] + "h"),
        ("thumbprint-padded", C["CLIENT_JKT"] + "="),
    ]
    for name, text in wycheproof_jwks(14):
        seeds.append((f"wycheproof-{name}", text))
    # RSA, P-521 and Ed25519 keys (RFC 7520 §3, RFC 8037 §A.1), so the fuzzer starts inside
    # every key type's reader.
    cookbook = ROOT / "tests" / "data" / "jose-cookbook"
    for name in ["3_1.ec_public_key", "3_2.ec_private_key", "3_3.rsa_public_key", "3_4.rsa_private_key"]:
        seeds.append((f"rfc7520-{name.split('.')[1]}", (cookbook / "jwk" / f"{name}.json").read_text().strip()))
    okp = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    seeds.append(("rfc8037-public", json.dumps(okp)))
    seeds.append(("rfc8037-private", json.dumps(dict(okp, d="nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))))
    rsa_public = json.loads((cookbook / "jwk" / "3_3.rsa_public_key.json").read_text())
    openssl = ROOT / "tests" / "data" / "openssl"
    for name in ["p256_sec1_with_params.pem", "ed25519_pkcs8.pem", "rsa2048_pkcs1.pem", "p384_spki.pem"]:
        seeds.append((f"pem-{name[:-4]}", (openssl / name).read_text()))
    seeds.append(("mixed-jwks", json.dumps({"keys": [rsa_public, okp, dict(okp, crv="X25519", kid="x"), json.loads(C["CLIENT_PUBLIC_JWK"])]})))
    write("jwk_parse", [(n, t.encode()) for n, t in seeds])


HANDMADE_URLS = [
    "https://server.example.com/token",
    "HTTPS://Server.Example.COM:443/token",
    "http://server.example.com:80/token",
    "https://server.example.com:/token",
    "https://server.example.com",
    "https://a.example/%7Euser/%61",
    "https://a.example/x%2fy",
    "https://a.example/a/./b/../c",
    "https://a.example/../../a",
    "https://a.example/a/%2E%2E/b",
    "https://a.example/token?x=1#frag",
    "https://%61.example/",
    "https://[::1]:443/x",
    "https://[ABCD::1]/x",
    "https://a.example:08443/x",
    "https://a.example/a//b",
    "https://user@a.example/x",
    "https://a.example:99999/x",
    "https://a.example/%zz",
    "https://a.example/%4",
    "https://[::1/x",
    "ftp://a.example/x",
    "https:/a.example/x",
    "https://a.example/.",
    "https://a.example/..%2F..",
    "https://a.example/?#",
]


def htu():
    seeds = [(f"url-{i:02}", seed(0, url)) for i, url in enumerate(HANDMADE_URLS)]
    seeds += [
        ("post-token", seed(0, C["TOKEN_ENDPOINT_URL"], "POST")),
        ("with-token", seed(1, C["RESOURCE_URL"], "GET", C["TOKEN"])),
        ("with-nonce", seed(2, C["RESOURCE_URL"], "GET", "", "eyJ7S_zG.eyJH0-Z.HX4w-7v")),
        ("sym-case-port", seed(4, "HTTPS://A.example:443/a/./b", "GET", "", "", "https://a.example/a/b")),
        ("sym-encoded", seed(4, "https://a.example/%7e%2f", "GET", "", "", "https://a.example/~%2F")),
        ("sym-dots", seed(4, "https://a.example/a/b/..", "GET", "", "", "https://a.example/a/")),
        ("sym-ipv6", seed(4, "https://[::1]/x", "GET", "", "", "https://[::1]:443/x")),
        ("sym-all", seed(7, "http://a.example:80/x?q", "M-SEARCH", "abc==", "!#[]~", "http://A.EXAMPLE/x#f")),
    ]
    write("htu", seeds)


def token_verify():
    token = C["TOKEN"]
    header, payload, _ = token.split(".")
    header = base64.urlsafe_b64decode(header + "==").decode()
    claims = json.loads(base64.urlsafe_b64decode(payload + "==").decode())
    j = lambda o: json.dumps(o, separators=(",", ":"))
    hdr = json.loads(header)
    seeds = [
        ("fixture-now", seed(0, token)),
        ("fixture-exp-edge", seed(5 << 1, token)),
        ("fixture-expired", seed(6 << 1, token)),
        ("fixture-before-iat", seed(2 << 1, token)),
        ("rfc-proof", seed(0, RFC["proofs"][0]["proof"])),
        ("rfc-access-token", seed(0, RFC["access_token"])),
    ]
    signed = [
        ("signed-fixture", header, j(claims)),
        ("signed-aud-array", header, j(dict(claims, aud=["x", C["AUD"]]))),
        ("signed-nbf", header, j(dict(claims, nbf=NOW + 10))),
        ("signed-no-cnf", header, j({k: v for k, v in claims.items() if k != "cnf"})),
        ("signed-too-long", header, j(dict(claims, exp=NOW + 3601))),
        ("signed-float-times", header, j(dict(claims, iat=NOW + 0.25, exp=NOW + 299.75))),
        ("signed-wrong-iss", header, j(dict(claims, iss="https://evil.example"))),
        ("signed-extra", header, j(dict(claims, roles=["a", {"b": [1, 2.5, None, True]}]))),
        ("signed-typ-media", j(dict(hdr, typ="application/at+jwt")), j(claims)),
        ("signed-no-kid", j({k: v for k, v in hdr.items() if k != "kid"}), j(claims)),
        ("signed-crit", j(dict(hdr, crit=["x"], x=1)), j(claims)),
        ("signed-jwt-typ", j(dict(hdr, typ="JWT")), j(claims)),
    ]
    for name, h, c in signed:
        seeds.append((name, seed(1, h, c)))
    for tc, jws in wycheproof_jws(8):
        seeds.append((f"wycheproof-jws-{tc}", seed(0, jws)))
    write("token_verify", seeds)


# --- jwe_decrypt: compact JWEs made here, deterministically, to the fixture decryption keys ---
#
# An independent implementation of the encryption side (RFC 7516 §5.1, RFC 7518 §4.6 Concat
# KDF, §4.3 RSA-OAEP-256, §5.2 AES-CBC-HMAC, §5.3 AES-GCM) on `cryptography`, with every random
# value (ephemeral key, CEK, IV, OAEP seed) drawn from SHA-256 of a label: the same seeds on
# every run, and a cross-check of keybound's decryption against another implementation.


def det(label, n):
    """`n` pseudo-random bytes from `label` (SHA-256 in counter mode)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


ENC_KEY_LEN = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32, "A128CBC-HS256": 32, "A256CBC-HS512": 64}
CURVES = {"P-256": (ec.SECP256R1(), 32), "P-384": (ec.SECP384R1(), 48)}


def concat_kdf(z, alg_id, bits, apu=b"", apv=b""):
    """RFC 7518 §4.6.2 (NIST SP 800-56A Concat KDF with SHA-256)."""
    field = lambda data: len(data).to_bytes(4, "big") + data
    other = field(alg_id.encode()) + field(apu) + field(apv) + bits.to_bytes(4, "big")
    out = b""
    counter = 1
    while len(out) * 8 < bits:
        out += hashlib.sha256(counter.to_bytes(4, "big") + z + other).digest()
        counter += 1
    return out[: bits // 8]


def ecdh(jwk, label):
    """A deterministic ephemeral key agreement with the recipient `jwk`: (Z, epk JWK)."""
    if jwk["kty"] == "OKP":
        eph = x25519.X25519PrivateKey.from_private_bytes(det(label + "/epk", 32))
        peer = x25519.X25519PublicKey.from_public_bytes(unb64(jwk["x"]))
        x = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return eph.exchange(peer), {"kty": "OKP", "crv": "X25519", "x": b64(x)}
    curve, size = CURVES[jwk["crv"]]
    order = {32: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
             48: 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973}[size]
    scalar = int.from_bytes(det(label + "/epk", size + 8), "big") % (order - 1) + 1
    eph = ec.derive_private_key(scalar, curve)
    peer = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64(jwk["x"]), "big"), int.from_bytes(unb64(jwk["y"]), "big"), curve
    ).public_key()
    point = eph.public_key().public_numbers()
    epk = {"kty": "EC", "crv": jwk["crv"], "x": b64(point.x.to_bytes(size, "big")), "y": b64(point.y.to_bytes(size, "big"))}
    return eph.exchange(ec.ECDH(), peer), epk


def rsa_oaep_256(jwk, message, label):
    """RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label (RFC 8017 §7.1.1), seed from `label`."""
    n = int.from_bytes(unb64(jwk["n"]), "big")
    e = int.from_bytes(unb64(jwk["e"]), "big")
    k = (n.bit_length() + 7) // 8
    h = hashlib.sha256(b"").digest()
    mgf = lambda seed, length: b"".join(
        hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(length // 32 + 1)
    )[:length]
    db = h + bytes(k - len(message) - 2 * 32 - 2) + b"\x01" + message
    seed = det(label + "/oaep", 32)
    masked_db = bytes(a ^ b for a, b in zip(db, mgf(seed, k - 32 - 1)))
    masked_seed = bytes(a ^ b for a, b in zip(seed, mgf(masked_db, 32)))
    em = b"\x00" + masked_seed + masked_db
    return pow(int.from_bytes(em, "big"), e, n).to_bytes(k, "big")


def seal(enc, cek, iv, aad, plaintext):
    """(ciphertext, tag) for `enc` (RFC 7518 §5.2.2, §5.3)."""
    if enc.endswith("GCM"):
        sealed = AESGCM(cek).encrypt(iv, plaintext, aad)
        return sealed[:-16], sealed[-16:]
    half = len(cek) // 2
    mac_key, enc_key = cek[:half], cek[half:]
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    digest = hashes.SHA256() if half == 16 else hashes.SHA512()
    mac = hmac.HMAC(mac_key, digest)
    mac.update(aad + iv + ciphertext + (len(aad) * 8).to_bytes(8, "big"))
    return ciphertext, mac.finalize()[:half]


def jwe(jwk, enc, plaintext, label, alg=None, kid=True, header_extra=None, apu=b"", apv=b""):
    """The compact JWE of `plaintext` to the private `jwk` (its `alg` unless `alg` says
    otherwise) with `enc`; every random value drawn from `label`."""
    alg = alg or jwk["alg"]
    header = {"alg": alg, "enc": enc, "cty": "JWT"}
    if kid:
        header["kid"] = jwk["kid"]
    cek_len = ENC_KEY_LEN[enc]
    cek = det(label + "/cek", cek_len)
    encrypted_key = b""
    if alg.startswith("ECDH-ES"):
        z, header["epk"] = ecdh(jwk, label)
        if apu:
            header["apu"] = b64(apu)
        if apv:
            header["apv"] = b64(apv)
        if alg == "ECDH-ES":
            cek = concat_kdf(z, enc, cek_len * 8, apu, apv)
        else:
            kek_len = 16 if alg == "ECDH-ES+A128KW" else 32
            kek = concat_kdf(z, alg, kek_len * 8, apu, apv)
            encrypted_key = keywrap.aes_key_wrap(kek, cek)
    elif alg == "RSA-OAEP-256":
        encrypted_key = rsa_oaep_256(jwk, cek, label)
    else:
        encrypted_key = det(label + "/key", 40)  # refused algorithms: any bytes
    header.update(header_extra or {})
    header = {k: v for k, v in header.items() if v is not None}
    protected = b64(json.dumps(header, separators=(",", ":")).encode())
    iv = det(label + "/iv", 12 if enc.endswith("GCM") else 16)
    ciphertext, tag = seal(enc, cek, iv, protected.encode(), plaintext)
    return ".".join([protected, b64(encrypted_key), b64(iv), b64(ciphertext), b64(tag)])


JWE_KEYS = ["JWE_P256_JWK", "JWE_X25519_JWK", "JWE_P384_JWK", "JWE_RSA_JWK"]
ENCS = ["A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"]


def fixture_jwe():
    """`ENCRYPTED_TOKEN` of fuzz/src/lib.rs: TOKEN to the P-256 key, A256GCM."""
    return jwe(json.loads(C["JWE_P256_JWK"]), "A256GCM", C["TOKEN"].encode(), "fixture")


def jwe_decrypt():
    assert fixture_jwe() == C["ENCRYPTED_TOKEN"], "ENCRYPTED_TOKEN is stale: paste fixture_jwe()"
    token = C["TOKEN"].encode()
    keys = {name: json.loads(C[name]) for name in JWE_KEYS}
    p256, x25519_key, p384, rsa_key = (keys[name] for name in JWE_KEYS)
    # flags: bit 0 guard mode, bits 1-4 time index, bits 5-7 key selection (see the target).
    GUARD, ALONE = 1, lambda i: (i + 1) << 5
    seeds = [("fixture", seed(0, C["ENCRYPTED_TOKEN"])), ("fixture-guard", seed(GUARD, C["ENCRYPTED_TOKEN"]))]
    for name in JWE_KEYS:
        short = name[4:-4].lower()
        for enc in ENCS:
            seeds.append((f"valid-{short}-{enc.lower()}", seed(0, jwe(keys[name], enc, token, f"{short}/{enc}"))))
    seeds += [
        ("guard-x25519", seed(GUARD, jwe(x25519_key, "A128CBC-HS256", token, "guard/x25519"))),
        ("guard-p384-late", seed(GUARD | (6 << 1), jwe(p384, "A256GCM", token, "guard/p384"))),
        ("guard-rsa", seed(GUARD, jwe(rsa_key, "A128GCM", token, "guard/rsa"))),
        ("no-kid-alone", seed(ALONE(0), jwe(p256, "A128GCM", token, "nokid", kid=False))),
        ("no-kid-all", seed(0, jwe(p256, "A128GCM", token, "nokid", kid=False))),
        ("wrong-kid", seed(0, jwe(p256, "A128GCM", token, "wrongkid", header_extra={"kid": "fuzz-x25519-ecdh-es"}))),
        ("apu-apv", seed(0, jwe(x25519_key, "A256GCM", token, "apu", apu=b"Alice", apv=b"Bob"))),
        ("cty-lowercase", seed(0, jwe(p384, "A128GCM", token, "cty", header_extra={"cty": "jwt"}))),
        ("unknown-member", seed(0, jwe(p256, "A256GCM", token, "extra", header_extra={"x5u": "https://a.example/", "typ": "JWT"}))),
        ("inner-json", seed(0, jwe(p256, "A256GCM", b'{"sub":"alice"}', "json"))),
        ("inner-jwe", seed(0, jwe(p256, "A256GCM", C["ENCRYPTED_TOKEN"].encode(), "nested"))),
        ("inner-empty-segments", seed(0, jwe(x25519_key, "A128GCM", b"..", "dots"))),
        ("tampered-tag", seed(0, C["ENCRYPTED_TOKEN"][:-2] + ("A" if C["ENCRYPTED_TOKEN"][-2] != "A" else "B") + C["ENCRYPTED_TOKEN"][-1])),
        ("wrong-alg-for-key", seed(0, jwe(p256, "A256GCM", token, "wrongalg", alg="ECDH-ES"))),
        ("refused-rsa1_5", seed(0, jwe(rsa_key, "A128GCM", token, "rsa15", alg="RSA1_5"))),
        ("refused-rsa-oaep", seed(0, jwe(rsa_key, "A128GCM", token, "oaep1", alg="RSA-OAEP"))),
        ("refused-dir", seed(0, jwe(p256, "A128GCM", token, "dir", alg="dir"))),
        ("refused-a128kw", seed(0, jwe(p256, "A128GCM", token, "kw", alg="A128KW"))),
        ("refused-a128gcmkw", seed(0, jwe(p256, "A128GCM", token, "gcmkw", alg="A128GCMKW", header_extra={"iv": "AAAAAAAAAAAAAAAA", "tag": "AAAAAAAAAAAAAAAAAAAAAA"}))),
        ("refused-pbes2", seed(0, jwe(p256, "A128GCM", token, "pbes2", alg="PBES2-HS256+A128KW", header_extra={"p2s": "c2FsdHNhbHQ", "p2c": 4096}))),
        ("refused-zip", seed(0, jwe(p256, "A128GCM", token, "zip", header_extra={"zip": "DEF"}))),
        ("refused-crit", seed(0, jwe(p256, "A128GCM", token, "crit", header_extra={"crit": ["exp"], "exp": 1}))),
        ("refused-no-cty", seed(0, jwe(p256, "A128GCM", token, "nocty", header_extra={"cty": None}))),
        ("refused-a192gcm", seed(0, jwe(p256, "A192GCM", token, "a192", ))),
        ("refused-epk-string", seed(0, jwe(p256, "A128GCM", token, "epkstr", header_extra={"epk": "x"}))),
        ("refused-epk-rsa", seed(0, jwe(rsa_key, "A128GCM", token, "epkrsa", header_extra={"epk": {"kty": "EC"}}))),
        ("refused-kid-number", seed(0, jwe(p256, "A128GCM", token, "kidnum", header_extra={"kid": 7}))),
    ]
    # The JSON serialization (RFC 7516 §7.2) of the fixture: refused.
    protected, key, iv, ciphertext, tag = C["ENCRYPTED_TOKEN"].split(".")
    general = {"protected": protected, "recipients": [{"encrypted_key": key}], "iv": iv, "ciphertext": ciphertext, "tag": tag}
    seeds += [
        ("refused-json-general", seed(0, json.dumps(general, separators=(",", ":")))),
        ("plain-jws-guard", seed(GUARD, C["TOKEN"])),
        ("padded-segment", seed(0, protected + "=." + ".".join([key, iv, ciphertext, tag]))),
    ]
    write("jwe_decrypt", seeds)


if __name__ == "__main__":
    proof_verify()
    guard_headers()
    jwk_parse()
    htu()
    token_verify()
    jwe_decrypt()
