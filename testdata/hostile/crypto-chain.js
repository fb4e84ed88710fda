// hostile: chained WebCrypto: sixty RSA key generations in one Promise.all under a 50 ms CPU limit (each runs in Go between JavaScript instructions)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
export default { async fetch() {
  const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  await Promise.all(Array.from({ length: 60 }, () => crypto.subtle.generateKey(alg, true, ["sign", "verify"])));
  return new Response("generated");
} };
