// One DPoP proof from an independent implementation, for keybound's interop tests.
//
//   echo '{"alg":"ES256","htm":"GET","htu":"https://api.example.test/x"}' | node dpop_proof.mjs
//
// Input (JSON on stdin): alg ("ES256" | "PS256" | "RS256" | "Ed25519" | "EdDSA"), htm, htu,
// accessToken? (adds `ath`), nonce?, keyFile? (a path: the private JWK is saved there when the
// file is absent and reused when present, so one key can sign many proofs).
// Output (JSON on stdout): { proof, alg (the header's), jwk (public), jkt (RFC 7638) }.
//
// Proofs come from panva's `dpop` package, except for alg "EdDSA": `dpop` names Ed25519 proofs
// "Ed25519" (RFC 9864), so "EdDSA" proofs are signed with `jose` directly.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

import { generateProof } from 'dpop';
import {
  SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK,
} from 'jose';

const request = JSON.parse(readFileSync(0, 'utf8'));
const { alg, htm, htu, accessToken, nonce, keyFile } = request;

let privateJwk;
if (keyFile && existsSync(keyFile)) {
  const saved = JSON.parse(readFileSync(keyFile, 'utf8'));
  if (saved.alg !== alg) throw new Error(`${keyFile} holds a key for ${saved.alg}, not ${alg}`);
  privateJwk = saved.jwk;
} else {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  privateJwk = await exportJWK(privateKey);
  if (keyFile) writeFileSync(keyFile, JSON.stringify({ alg, jwk: privateJwk }), { mode: 0o600 });
}
const { kty, crv, e, n, x, y } = privateJwk;
const jwk = Object.fromEntries(Object.entries({ kty, crv, e, n, x, y }).filter(([, v]) => v));
const keypair = { privateKey: await importJWK(privateJwk, alg), publicKey: await importJWK(jwk, alg) };

let proof;
if (alg === 'EdDSA') {
  const ath = accessToken
    ? Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from(accessToken))).toString('base64url')
    : undefined;
  proof = await new SignJWT({ htm, htu, nonce, ath, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(keypair.privateKey);
} else {
  proof = await generateProof(keypair, htu, htm, nonce, accessToken);
}
const header = JSON.parse(Buffer.from(proof.split('.')[0], 'base64url'));
console.log(JSON.stringify({ proof, alg: header.alg, jwk, jkt: await calculateJwkThumbprint(jwk) }));
