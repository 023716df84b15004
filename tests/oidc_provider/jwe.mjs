// JWE from an independent implementation (panva's `jose`), for keybound's encrypted-token
// interop tests (tests/oidc_provider.rs).
//
//   echo '{"op":"decrypt","jwe":"…","jwk":{…private…}}' | node jwe.mjs
//   echo '{"op":"encrypt","plaintext":"…","jwk":{…public…},"enc":"A256GCM"}' | node jwe.mjs
//
// decrypt → { plaintext, header } (the protected header); encrypt → { jwe } with the JWK's own
// `alg`, `cty: "JWT"` and the JWK's `kid`.
import { readFileSync } from 'node:fs';

import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';

const request = JSON.parse(readFileSync(0, 'utf8'));
const key = await importJWK(request.jwk, request.jwk.alg);
let answer;
if (request.op === 'decrypt') {
  const { plaintext, protectedHeader } = await compactDecrypt(request.jwe, key);
  answer = { plaintext: new TextDecoder().decode(plaintext), header: protectedHeader };
} else if (request.op === 'encrypt') {
  const header = { alg: request.jwk.alg, enc: request.enc, cty: 'JWT' };
  if (request.jwk.kid) header.kid = request.jwk.kid;
  const jwe = await new CompactEncrypt(new TextEncoder().encode(request.plaintext))
    .setProtectedHeader(header)
    .encrypt(key);
  answer = { jwe };
} else {
  throw new Error(`unknown op ${request.op}`);
}
process.stdout.write(JSON.stringify(answer));
