package webapi_test

// Conformance tests for the Web Crypto API (jssrc/70_crypto.js and
// crypto.go), using published known-answer vectors: FIPS 180 / RFC 6234
// digests, RFC 2202 and RFC 4231 HMAC, the GCM specification's AES-GCM test
// cases, NIST SP 800-38A AES-CBC, RFC 6070 PBKDF2, RFC 5869 HKDF, RFC 6979
// ECDSA, RFC 8032 Ed25519, RFC 4648 base64(url), and an RSA key and
// signature made with OpenSSL.

import "testing"

// cryptoJS prefixes helpers to a test body: hex/unhex, b64 (standard
// base64 of a buffer), text (UTF-8 bytes), and errName(promise or
// function), which resolves to the name of the error thrown or "ok".
const cryptoJS = `
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
const text = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0)); // ASCII only
const b64 = (b) => new Uint8Array(b).toBase64();
const unb64 = (s) => Uint8Array.fromBase64(s);
const subtle = crypto.subtle;
async function errName(p) {
  try { await (typeof p === "function" ? p() : p); return "ok"; } catch (e) { return e.name; }
}
`

func cryptoExpect(t *testing.T, body string, want any) {
	t.Helper()
	expectJS(t, cryptoJS+body, want)
}

// RSA 2048 test key and an RS256 signature of "hello JWT", made with OpenSSL.
const (
	rsaSPKI = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp1rMNtgeMSAo2O0JPBtgrhc3hrSwECpszZrkUr6qeWC0QNMNYD+1WidZ" +
		"+e/Ot/rBBdwCZMnqxy/dOSB5AEPgHn8S0s9bHvSj6tN7E40RL0+f+CJtWCucM9FVGPHfZgrgo15qGtb1CnLm3m4LdYwj3OnQ103c" +
		"DvZqxFEEApkkiRFDs7wFoS64EAplwB4TKRjuyy9XAYDDuPyrn2FAAFpfogpKYlWi+pjwxO8U4cdIgR+fyhLfmn3D23VUXvbreiIU" +
		"Ymg3NmJVLt0aONsRqYIPf/amY3F5nvsxTJ/eW4QN6BjJhxSuNYxOBSIn2JqnkMj2UWj2YCfCG3u1WoXU+BSr1QIDAQAB"
	rsaPKCS8 = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCnWsw22B4xICjY7Qk8G2CuFzeGtLAQKmzNmuRSvqp5YLRA0w1g" +
		"P7VaJ1n57863+sEF3AJkyerHL905IHkAQ+AefxLSz1se9KPq03sTjREvT5/4Im1YK5wz0VUY8d9mCuCjXmoa1vUKcubebgt1jCPc" +
		"6dDXTdwO9mrEUQQCmSSJEUOzvAWhLrgQCmXAHhMpGO7LL1cBgMO4/KufYUAAWl+iCkpiVaL6mPDE7xThx0iBH5/KEt+afcPbdVRe" +
		"9ut6IhRiaDc2YlUu3Ro42xGpgg9/9qZjcXme+zFMn95bhA3oGMmHFK41jE4FIifYmqeQyPZRaPZgJ8Ibe7VahdT4FKvVAgMBAAEC" +
		"ggEAAOYADlP8XCzShfubyZVSCw0320LGu9zRHGIg/gAPtTrGLPTqb6JX7GXQBK37ZknJKyliX+fPmVsnQmJraTYevWXW6YfQcurt" +
		"owSYoWMSp7YzOHyi0/mD9f6WiN2U4pzbVjUwYk2AykS8pY63WV2zvEC1wiTPsiAziYiaehMYEEj5DHNo0j/0ziUvSFag6nHPip4F" +
		"6MXQ5IO/PmHlX2GprjtAJW3WAcNpUJf/A7w7uXAu1IvxZsQUvrIlviO+oz8IYv/nJpcXJ8zVBSWoGfCVuTllMwyovWoO4VEK+8X8" +
		"HxIKebpJWIHW95Z+8DeflP4tcvxrTu/9j8tA6yHkJ5+3PwKBgQDcxbXDKWA74EIYZpUuRF9HuBd1TKVk5HlaHt61pjvEhutH8XAx" +
		"O7dNkLLduo5Nlyt6fpw6JXo+kold0MMR/tAfCbHKRI/A2aRs2ztbBQcvzdqe9bYEHFMmiSY9/0xIiu0tTVbz2GX9upjMYFnOVB19" +
		"Jg8gFFARoGKx9zWGhiIrwwKBgQDCDwpOW5djfrx4YjWjt+7mbf+bwuGtai3gv5b4gWKXyY6LlmGrwvFYf49T2NLHffhQ5/Hk2a4j" +
		"lShHWssdCRTc8qKrpV5YgV9fKXh74LyatgZgmhk7fXevDb+Aeo7rR/OM3xVaOdi4RZdnzjBCahQMwbMerV5Mlx/FYYMH2vCIhwKB" +
		"gD9xLV9s93OdaUD70ajfCwZgF5Wkte69XUYRkuxeXdSG9PvSnOv4/h7zEwN2xcf0RhFIavqmpG9wyrrD8Bquv/37WjUG6MyBfqet" +
		"hGwOkNci7804TNr3jMmJJg0w3SoHikq3a+Jc8EouohQxJ/2L3IGHO1d7ntrB3TrJEH+c8hrjAoGAWLsjzTxX9mhmqOzO9fMOS1KU" +
		"g5YSNobMP22bDDms6RaCFRVHx4+1Zu+8i2wixJC2z9eeZTObSi3TYv0Czl3uqjBPbQiKIRHWl96QdqQF2P/N3rHXQ7pU1TgGDir7" +
		"2lzl4c3HJ6A3ldpMJmzC6Ds0u7h9vFMtQPwAzPGPRjI3tVUCgYBTppCjNv47JSB3FmKJpCBklcIXAOOiwgwymWgKN8tq0JyV6XEG" +
		"lIiLKOBk2GE+otqTvV4zUkc0P88krFMH0ewqbr+JqHO5IkoXxxohkwUduWivaUJp6kCXiy18szKNlj+0gZz5ByA6XOuG4ehH2r6X" +
		"FeSSGLVTYGbA5SsRUMDjMw=="
	rsaSigHelloJWT = "BXfW1x3HOZpbALeNf31XtaqH19mdS7ZkEcxyngNkcc/lNLx8+QxHDVjqg/z4253B9sEJVn4mn9QpJXQ+jxXrlt+nrK9oSx3WJOfV" +
		"HkSqV+z7rNYHsHs1i9wANKnS4PVfda5QuzGz0yLwh88AJCNZVm7SGdIp/tKUFa/xayNcUmSnYwU2WIvaRwZcrrPePyNpBUH4kRUK" +
		"mRI5eOnOEOY6P0OjPDvrXteFTK3zclKOMwhKFVmKOc62vLRjXBjt1HsmG6qjDZdf3CSw9VWLWH/xirzXUJWWr8XL2gbnQ9DKRJRt" +
		"GbcrJ+wD+ThFl/rCdAVNcBU7VEiHApN9IMR71hznxA=="
)

// rsaJWKN is the modulus of the same key, base64url (the JWK "n").
const rsaJWKN = "p1rMNtgeMSAo2O0JPBtgrhc3hrSwECpszZrkUr6qeWC0QNMNYD-1WidZ-e_Ot_rBBdwCZMnqxy_dOSB5AEPgHn8S0s9bHvSj6tN7" +
	"E40RL0-f-CJtWCucM9FVGPHfZgrgo15qGtb1CnLm3m4LdYwj3OnQ103cDvZqxFEEApkkiRFDs7wFoS64EAplwB4TKRjuyy9XAYDD" +
	"uPyrn2FAAFpfogpKYlWi-pjwxO8U4cdIgR-fyhLfmn3D23VUXvbreiIUYmg3NmJVLt0aONsRqYIPf_amY3F5nvsxTJ_eW4QN6BjJ" +
	"hxSuNYxOBSIn2JqnkMj2UWj2YCfCG3u1WoXU-BSr1Q"

func TestCryptoGlobals(t *testing.T) {
	cryptoExpect(t, `
		return [
			typeof crypto, crypto.subtle instanceof SubtleCrypto, crypto.subtle === crypto.subtle,
			Object.prototype.toString.call(crypto.subtle), typeof CryptoKey,
			await errName(() => new CryptoKey()), await errName(() => new SubtleCrypto()),
			Object.keys(globalThis).includes("crypto"),
		];
	`, []any{"object", true, true, "[object SubtleCrypto]", "function", "TypeError", "TypeError", false})
}

func TestCryptoDigestKnownAnswers(t *testing.T) {
	cryptoExpect(t, `
		const abc = text("abc");
		return [
			hex(await subtle.digest("SHA-1", abc)),
			hex(await subtle.digest("SHA-256", abc)),
			hex(await subtle.digest("SHA-384", abc)),
			hex(await subtle.digest("SHA-512", abc)),
			hex(await subtle.digest("sha-256", new ArrayBuffer(0))),
			hex(await subtle.digest({ name: "Sha-256" }, new DataView(text("xabcx").buffer, 1, 3))),
			(await subtle.digest("SHA-256", abc)) instanceof ArrayBuffer,
		];
	`, []any{
		"a9993e364706816aba3e25717850c26c9cd0d89d",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		true,
	})
}

func TestCryptoDigestErrors(t *testing.T) {
	cryptoExpect(t, `
		const p = subtle.digest("MD5", text("a"));
		return [
			p instanceof Promise,
			await errName(p),
			await errName(subtle.digest("HMAC", text("a"))),
			await errName(subtle.digest({}, text("a"))),
			await errName(subtle.digest("SHA-256", "a string")),
			await errName(subtle.digest("SHA-256")),
			await errName(subtle.digest("SHA-256", new Uint8Array(16 * 1024 * 1024 + 1))),
		];
	`, []any{true, "NotSupportedError", "NotSupportedError", "TypeError", "TypeError", "TypeError", "QuotaExceededError"})
}

func TestCryptoErrorsAreDOMExceptions(t *testing.T) {
	out := evalJS(t, cryptoJS+`
		const key = await subtle.importKey("raw", text("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const names = [];
		for (const p of [subtle.digest("MD5", text("a")), subtle.exportKey("raw", key), subtle.importKey("raw", text("k"), "AES-GCM", false, ["encrypt"])]) {
			try { await p; names.push("ok"); } catch (e) { names.push(e instanceof DOMException, e.name); }
		}
		return names;
	`)
	want := `[true,"NotSupportedError",true,"InvalidAccessError",true,"DataError"]`
	if out != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}

func TestCryptoGetRandomValues(t *testing.T) {
	cryptoExpect(t, `
		const a = new Uint8Array(64);
		const r = crypto.getRandomValues(a);
		const big = new Uint32Array(16384); // exactly 65536 bytes
		crypto.getRandomValues(big);
		const region = new Uint8Array(48);
		crypto.getRandomValues(region.subarray(16, 32));
		return [
			r === a, a.some((x) => x !== 0), big.some((x) => x !== 0),
			region.slice(0, 16).every((x) => x === 0), region.slice(32).every((x) => x === 0), region.slice(16, 32).some((x) => x !== 0),
			crypto.getRandomValues(new BigUint64Array(2)).length,
			await errName(() => crypto.getRandomValues(new Float64Array(4))),
			await errName(() => crypto.getRandomValues(new Float32Array(4))),
			await errName(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4)))),
			await errName(() => crypto.getRandomValues(new Uint8Array(65537))),
			await errName(() => crypto.getRandomValues(new ArrayBuffer(4))),
			await errName(() => crypto.getRandomValues()),
		];
	`, []any{true, true, true, true, true, true, 2, "TypeMismatchError", "TypeMismatchError", "TypeMismatchError", "QuotaExceededError", "TypeError", "TypeError"})
}

func TestCryptoRandomUUID(t *testing.T) {
	cryptoExpect(t, `
		const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
		const ids = Array.from({ length: 50 }, () => crypto.randomUUID());
		return [ids.every((u) => re.test(u)), new Set(ids).size];
	`, []any{true, 50})
}

func TestCryptoHMACKnownAnswers(t *testing.T) {
	// RFC 4231 test cases 1, 2 and 6; RFC 2202 test case 1 for SHA-1.
	cryptoExpect(t, `
		const mac = async (hash, key, data) => {
			const k = await subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign", "verify"]);
			return hex(await subtle.sign("HMAC", k, data));
		};
		const k1 = new Uint8Array(20).fill(0x0b), d1 = text("Hi There");
		return [
			await mac("SHA-256", k1, d1),
			await mac("SHA-384", k1, d1),
			await mac({ name: "sha-512" }, k1, d1),
			await mac("SHA-1", k1, d1),
			await mac("SHA-256", text("Jefe"), text("what do ya want for nothing?")),
			await mac("SHA-256", new Uint8Array(131).fill(0xaa), text("Test Using Larger Than Block-Size Key - Hash Key First")),
		];
	`, []any{
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
		"b617318655057264e28bc0b6fb378c8ef146be00",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	})
}

func TestCryptoHMACVerify(t *testing.T) {
	cryptoExpect(t, `
		const k = await subtle.importKey("raw", text("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
		const data = text("what do ya want for nothing?");
		const good = unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
		const bad = good.slice(); bad[31] ^= 1;
		return [
			await subtle.verify("HMAC", k, good, data),
			await subtle.verify("HMAC", k, bad, data),
			await subtle.verify("HMAC", k, good.slice(0, 16), data),
			await subtle.verify("HMAC", k, good, text("other")),
			await errName(subtle.sign("HMAC", k, data)), // no "sign" usage
		];
	`, []any{true, false, false, false, "InvalidAccessError"})
}

func TestCryptoHMACKeys(t *testing.T) {
	// RFC 4648: base64url("foobar") = "Zm9vYmFy", base64url("fo") = "Zm8".
	cryptoExpect(t, `
		const k = await subtle.importKey("raw", text("foobar"), { name: "HMAC", hash: { name: "SHA-256" } }, true, ["verify", "sign", "sign"]);
		const jwk = await subtle.exportKey("jwk", k);
		const k2 = await subtle.importKey("jwk", { kty: "oct", k: "Zm8", alg: "HS256" }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
		return [
			k.type, k.extractable, k.algorithm, k.usages, Object.prototype.toString.call(k), k instanceof CryptoKey,
			Object.getOwnPropertyNames(k), JSON.stringify(k),
			new TextDecoder().decode(await subtle.exportKey("raw", k)),
			jwk,
			hex(await subtle.exportKey("raw", k2)), k2.algorithm.length,
		];
	`, []any{
		"secret", true, map[string]any{"name": "HMAC", "hash": map[string]any{"name": "SHA-256"}, "length": 48},
		[]any{"sign", "verify"}, "[object CryptoKey]", true,
		[]any{}, "{}",
		"foobar",
		map[string]any{"kty": "oct", "k": "Zm9vYmFy", "alg": "HS256", "key_ops": []any{"sign", "verify"}, "ext": true},
		"666f", 16,
	})
}

func TestCryptoHMACKeyErrors(t *testing.T) {
	cryptoExpect(t, `
		const H = { name: "HMAC", hash: "SHA-256" };
		const nx = await subtle.importKey("raw", text("key"), H, false, ["sign"]);
		return [
			await errName(subtle.exportKey("raw", nx)),
			await errName(subtle.importKey("raw", text("key"), H, false, ["encrypt"])),
			await errName(subtle.importKey("raw", text("key"), H, false, [])),
			await errName(subtle.importKey("raw", text("key"), H, false, ["bogus"])),
			await errName(subtle.importKey("raw", text("key"), { name: "HMAC" }, false, ["sign"])),
			await errName(subtle.importKey("raw", text("key"), { name: "HMAC", hash: "SHA-3" }, false, ["sign"])),
			await errName(subtle.importKey("raw", new Uint8Array(0), H, false, ["sign"])),
			await errName(subtle.importKey("raw", text("key"), { name: "HMAC", hash: "SHA-256", length: 32 }, false, ["sign"])),
			await errName(subtle.importKey("spki", text("key"), H, false, ["sign"])),
			await errName(subtle.importKey("pem", text("key"), H, false, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "oct", k: "Zm8", alg: "HS512" }, H, false, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "RSA", k: "Zm8" }, H, false, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "oct", k: "Zm8", ext: false }, H, true, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "oct", k: "Zm8", key_ops: ["verify"] }, H, false, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "oct", k: "Zm8", use: "enc" }, H, false, ["sign"])),
			await errName(subtle.importKey("raw", text("key"), "FOO", false, ["sign"])),
			await errName(subtle.sign("HMAC", { type: "secret" }, text("x"))),
			await errName(subtle.sign({ name: "HMAC" }, await subtle.importKey("raw", text("k"), H, false, ["sign"]), "string data")),
		];
	`, []any{"InvalidAccessError", "SyntaxError", "SyntaxError", "TypeError", "TypeError", "NotSupportedError", "DataError",
		"DataError", "NotSupportedError", "TypeError", "DataError", "DataError", "DataError", "DataError", "DataError",
		"NotSupportedError", "TypeError", "TypeError"})
}

func TestCryptoHMACGenerateKey(t *testing.T) {
	cryptoExpect(t, `
		const k = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
		const k512 = await subtle.generateKey({ name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
		const k100 = await subtle.generateKey({ name: "HMAC", hash: "SHA-1", length: 100 }, true, ["sign"]);
		const sig = await subtle.sign("HMAC", k, text("msg"));
		const raw100 = new Uint8Array(await subtle.exportKey("raw", k100));
		return [
			k.algorithm.length, (await subtle.exportKey("raw", k)).byteLength, k512.algorithm.length, k512.extractable,
			await subtle.verify("HMAC", k, sig, text("msg")),
			raw100.length, raw100[12] & 0x0f,
			await errName(subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["encrypt"])),
			await errName(subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, [])),
			await errName(subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 0 }, true, ["sign"])),
		];
	`, []any{512, 64, 1024, false, true, 13, 0, "SyntaxError", "SyntaxError", "OperationError"})
}

func TestCryptoTimingSafeEqual(t *testing.T) {
	cryptoExpect(t, `
		return [
			subtle.timingSafeEqual(text("abc"), text("abc")),
			subtle.timingSafeEqual(text("abc").buffer, text("abd")),
			subtle.timingSafeEqual(new ArrayBuffer(0), new Uint8Array(0)),
			await errName(() => subtle.timingSafeEqual(text("abc"), text("ab"))),
			await errName(() => subtle.timingSafeEqual("abc", "abc")),
		];
	`, []any{true, false, true, "TypeError", "TypeError"})
}

// gcmTC4 is test case 4 of the GCM specification (McGrew & Viega).
const gcmTC4 = `
	const K4 = unhex("feffe9928665731c6d6a8f9467308308");
	const IV4 = unhex("cafebabefacedbaddecaf888");
	const P4 = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
	const A4 = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
	const C4 = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091";
	const T4 = "5bc94fbc3221a5db94fae95ae7121a47";
	const key4 = await subtle.importKey("raw", K4, "AES-GCM", true, ["encrypt", "decrypt"]);
`

func TestCryptoAESGCMKnownAnswers(t *testing.T) {
	cryptoExpect(t, gcmTC4+`
		const k0 = await subtle.importKey("raw", new Uint8Array(16), { name: "aes-gcm" }, false, ["encrypt"]);
		// Test case 6: a 60-byte IV.
		const IV6 = unhex("9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b");
		return [
			hex(await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, k0, new Uint8Array(16))),
			hex(await subtle.encrypt({ name: "AES-GCM", iv: IV4, additionalData: A4 }, key4, P4)) === C4 + T4,
			hex(await subtle.encrypt({ name: "AES-GCM", iv: IV6, additionalData: A4 }, key4, P4)),
			hex(await subtle.decrypt({ name: "AES-GCM", iv: IV4, additionalData: A4 }, key4, unhex(C4 + T4))) === hex(P4),
			hex(await subtle.encrypt({ name: "AES-GCM", iv: IV4, additionalData: A4, tagLength: 96 }, key4, P4)) === C4 + T4.slice(0, 24),
			hex(await subtle.decrypt({ name: "AES-GCM", iv: IV4, additionalData: A4, tagLength: 32 }, key4, unhex(C4 + T4.slice(0, 8)))) === hex(P4),
			key4.algorithm,
		];
	`, []any{
		"0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
		true,
		"8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5619cc5aefffe0bfa462af43c1699d050",
		true, true, true,
		map[string]any{"name": "AES-GCM", "length": 128},
	})
}

func TestCryptoAESGCMErrors(t *testing.T) {
	cryptoExpect(t, gcmTC4+`
		const tampered = unhex(C4 + T4); tampered[3] ^= 1;
		const badTag = unhex(C4 + T4.slice(0, 24)); badTag[badTag.length - 1] ^= 1;
		const noDecrypt = await subtle.importKey("raw", K4, "AES-GCM", false, ["encrypt"]);
		return [
			await errName(subtle.decrypt({ name: "AES-GCM", iv: IV4, additionalData: A4 }, key4, tampered)),
			await errName(subtle.decrypt({ name: "AES-GCM", iv: IV4 }, key4, unhex(C4 + T4))),
			await errName(subtle.decrypt({ name: "AES-GCM", iv: IV4, additionalData: A4, tagLength: 96 }, key4, badTag)),
			await errName(subtle.decrypt({ name: "AES-GCM", iv: IV4 }, key4, new Uint8Array(8))),
			await errName(subtle.encrypt({ name: "AES-GCM", iv: IV4, tagLength: 100 }, key4, P4)),
			await errName(subtle.encrypt({ name: "AES-GCM" }, key4, P4)),
			await errName(subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(0) }, key4, P4)),
			await errName(subtle.decrypt({ name: "AES-GCM", iv: IV4 }, noDecrypt, unhex(C4 + T4))),
			await errName(subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, key4, P4)),
			await errName(subtle.importKey("raw", new Uint8Array(20), "AES-GCM", false, ["encrypt"])),
			await errName(subtle.importKey("raw", K4, "AES-GCM", false, ["sign"])),
			await errName(subtle.generateKey({ name: "AES-GCM", length: 100 }, false, ["encrypt"])),
		];
	`, []any{"OperationError", "OperationError", "OperationError", "OperationError", "OperationError", "TypeError",
		"OperationError", "InvalidAccessError", "InvalidAccessError", "DataError", "SyntaxError", "OperationError"})
}

func TestCryptoAESGCMGenerateAndJWK(t *testing.T) {
	cryptoExpect(t, `
		const k = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
		const iv = crypto.getRandomValues(new Uint8Array(12));
		const ct = await subtle.encrypt({ name: "AES-GCM", iv }, k, text("secret message"));
		const jwk = await subtle.exportKey("jwk", k);
		const k2 = await subtle.importKey("jwk", jwk, "AES-GCM", false, ["decrypt"]);
		const pt = await subtle.decrypt({ name: "AES-GCM", iv }, k2, ct);
		return [k.algorithm.length, ct.byteLength, jwk.kty, jwk.alg, jwk.k.length, new TextDecoder().decode(pt)];
	`, []any{256, 14 + 16, "oct", "A256GCM", 43, "secret message"})
}

func TestCryptoAESCBC(t *testing.T) {
	// NIST SP 800-38A F.2.1, first block; Web Crypto adds PKCS #7 padding.
	cryptoExpect(t, `
		const k = await subtle.importKey("raw", unhex("2b7e151628aed2a6abf7158809cf4f3c"), "AES-CBC", false, ["encrypt", "decrypt"]);
		const iv = unhex("000102030405060708090a0b0c0d0e0f");
		const ct = await subtle.encrypt({ name: "AES-CBC", iv }, k, unhex("6bc1bee22e409f96e93d7e117393172a"));
		const bad = new Uint8Array(ct).slice(); bad[31] ^= 0x55;
		return [
			hex(ct),
			hex(await subtle.decrypt({ name: "AES-CBC", iv }, k, ct)),
			await errName(subtle.decrypt({ name: "AES-CBC", iv }, k, bad)),
			await errName(subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(12) }, k, ct)),
		];
	`, []any{"7649abac8119b246cee98e9b12e9197d8964e0b149c10b7b682e6e39aaeb731c", "6bc1bee22e409f96e93d7e117393172a", "OperationError", "OperationError"})
}

func TestCryptoPBKDF2(t *testing.T) {
	// RFC 6070 (PBKDF2-HMAC-SHA1) and the common PBKDF2-HMAC-SHA256 vector.
	cryptoExpect(t, `
		const pw = await subtle.importKey("raw", text("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
		const bits = async (hash, iterations, len) => hex(await subtle.deriveBits({ name: "PBKDF2", hash, salt: text("salt"), iterations }, pw, len));
		const aes = await subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 1 }, pw, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
		const hm = await subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 1 }, pw, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
		return [
			await bits("SHA-1", 1, 160), await bits("SHA-1", 2, 160), await bits("SHA-1", 4096, 160), await bits("SHA-256", 1, 256),
			hex(await subtle.exportKey("raw", aes)), aes.algorithm, hm.algorithm, hm.extractable,
			pw.algorithm, pw.extractable,
			await errName(subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: text("s"), iterations: 0 }, pw, 256)),
			await errName(subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: text("s"), iterations: 100001 }, pw, 256)),
			await errName(subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: text("s"), iterations: 1 }, pw, 12)),
			await errName(subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: text("s"), iterations: 1 }, pw, null)),
			await errName(subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", iterations: 1 }, pw, 256)),
			await errName(subtle.importKey("raw", text("pw"), "PBKDF2", true, ["deriveBits"])),
			await errName(subtle.importKey("raw", text("pw"), "PBKDF2", false, ["sign"])),
			await errName(subtle.exportKey("raw", pw)),
			await errName(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: text("s"), info: text("") }, pw, 256)),
		];
	`, []any{
		"0c60c80f961f0e71f3a9b524af6012062fe037a6", "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
		"4b007901b765489abead49d926f721d065a429c1", "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
		"120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
		map[string]any{"name": "AES-GCM", "length": 256},
		map[string]any{"name": "HMAC", "hash": map[string]any{"name": "SHA-256"}, "length": 256}, false,
		map[string]any{"name": "PBKDF2"}, false,
		"OperationError", "NotSupportedError", "OperationError", "OperationError", "TypeError", "SyntaxError", "SyntaxError",
		"NotSupportedError", "InvalidAccessError",
	})
}

func TestCryptoHKDF(t *testing.T) {
	// RFC 5869 test cases 1 and 3.
	cryptoExpect(t, `
		const ikm = await subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits", "deriveKey"]);
		const tc1 = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, 336);
		const tc3 = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, ikm, 336);
		const k = await subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, ikm, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
		return [
			hex(tc1), hex(tc3), hex(await subtle.exportKey("raw", k)),
			await errName(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, ikm, 256 * 255 * 8)),
			await errName(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0) }, ikm, 256)),
		];
	`, []any{
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
		"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
		"8da4e775a563c18f715f802a063c5a31",
		"OperationError", "TypeError",
	})
}

func TestCryptoWrapKey(t *testing.T) {
	cryptoExpect(t, `
		const kek = await subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["wrapKey", "unwrapKey"]);
		const mac = await subtle.importKey("raw", text("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
		const iv = new Uint8Array(12);
		const wrapped = await subtle.wrapKey("jwk", mac, kek, { name: "AES-GCM", iv });
		const back = await subtle.unwrapKey("jwk", wrapped, kek, { name: "AES-GCM", iv }, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const rawWrapped = await subtle.wrapKey("raw", mac, kek, { name: "AES-GCM", iv });
		return [
			hex(await subtle.sign("HMAC", back, text("what do ya want for nothing?"))),
			rawWrapped.byteLength,
			await errName(subtle.encrypt({ name: "AES-GCM", iv }, kek, text("x"))),
		];
	`, []any{"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 4 + 16, "InvalidAccessError"})
}

// RFC 6979 A.2.5: P-256 key, and the SHA-256 signature of "sample".
const ecdsaRFC6979 = `
	const jwkPub = { kty: "EC", crv: "P-256",
		x: unhex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6").toBase64({ alphabet: "base64url", omitPadding: true }),
		y: unhex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299").toBase64({ alphabet: "base64url", omitPadding: true }) };
	const jwkPriv = Object.assign({ d: unhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721").toBase64({ alphabet: "base64url", omitPadding: true }) }, jwkPub);
	const sig = unhex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
	const EC = { name: "ECDSA", namedCurve: "P-256" }, S = { name: "ECDSA", hash: "SHA-256" };
`

func TestCryptoECDSAKnownAnswer(t *testing.T) {
	cryptoExpect(t, ecdsaRFC6979+`
		const pub = await subtle.importKey("jwk", jwkPub, EC, true, ["verify"]);
		const priv = await subtle.importKey("jwk", jwkPriv, EC, true, ["sign"]);
		const raw = await subtle.exportKey("raw", pub);
		const fromRaw = await subtle.importKey("raw", raw, EC, true, ["verify"]);
		const spki = await subtle.exportKey("spki", pub);
		const fromSpki = await subtle.importKey("spki", spki, EC, true, ["verify"]);
		const pkcs8 = await subtle.exportKey("pkcs8", priv);
		const fromPkcs8 = await subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]);
		const mySig = await subtle.sign(S, fromPkcs8, text("sample"));
		const bad = sig.slice(); bad[5] ^= 1;
		const exported = await subtle.exportKey("jwk", fromPkcs8);
		return [
			await subtle.verify(S, pub, sig, text("sample")),
			await subtle.verify(S, pub, bad, text("sample")),
			await subtle.verify(S, pub, sig, text("samplE")),
			await subtle.verify(S, pub, sig.slice(0, 63), text("sample")),
			await subtle.verify(S, fromRaw, sig, text("sample")),
			await subtle.verify(S, fromSpki, mySig, text("sample")),
			mySig.byteLength, hex(raw).slice(0, 2), raw.byteLength,
			pub.type, priv.type, priv.algorithm, pub.usages,
			exported.d === jwkPriv.d && exported.x === jwkPub.x && exported.y === jwkPub.y, exported.alg, exported.crv, exported.kty,
		];
	`, []any{true, false, false, false, true, true, 64, "04", 65, "public", "private",
		map[string]any{"name": "ECDSA", "namedCurve": "P-256"}, []any{"verify"}, true, "ES256", "P-256", "EC"})
}

func TestCryptoECDSAErrors(t *testing.T) {
	cryptoExpect(t, ecdsaRFC6979+`
		const pub = await subtle.importKey("jwk", jwkPub, EC, true, ["verify"]);
		const spki = await subtle.exportKey("spki", pub);
		return [
			await errName(subtle.importKey("jwk", jwkPub, EC, true, ["sign"])),
			await errName(subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"])),
			await errName(subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-192" }, true, ["verify"])),
			await errName(subtle.importKey("spki", spki, { name: "ECDSA" }, true, ["verify"])),
			await errName(subtle.importKey("jwk", Object.assign({}, jwkPub, { crv: "P-384" }), EC, true, ["verify"])),
			await errName(subtle.importKey("jwk", Object.assign({}, jwkPub, { alg: "ES384" }), EC, true, ["verify"])),
			await errName(subtle.importKey("jwk", Object.assign({}, jwkPriv, { d: jwkPub.x }), EC, true, ["sign"])),
			await errName(subtle.importKey("raw", new Uint8Array(65), EC, true, ["verify"])),
			await errName(subtle.importKey("pkcs8", spki, EC, true, ["sign"])),
			await errName(subtle.exportKey("pkcs8", pub)),
			await errName(subtle.sign(S, pub, text("x"))),
			await errName(subtle.verify({ name: "ECDSA" }, pub, sig, text("x"))),
			await errName(subtle.verify({ name: "Ed25519" }, pub, sig, text("x"))),
		];
	`, []any{"SyntaxError", "DataError", "NotSupportedError", "TypeError", "DataError", "DataError", "DataError", "DataError",
		"DataError", "InvalidAccessError", "InvalidAccessError", "TypeError", "InvalidAccessError"})
}

func TestCryptoECDSAGenerateKey(t *testing.T) {
	cryptoExpect(t, `
		const out = [];
		for (const [namedCurve, hash, size] of [["P-256", "SHA-256", 64], ["P-384", "SHA-384", 96], ["P-521", "SHA-512", 132]]) {
			const { publicKey, privateKey } = await subtle.generateKey({ name: "ECDSA", namedCurve }, false, ["sign", "verify"]);
			const sig = await subtle.sign({ name: "ECDSA", hash }, privateKey, text("payload"));
			out.push(sig.byteLength === size, await subtle.verify({ name: "ECDSA", hash }, publicKey, sig, text("payload")),
				publicKey.extractable, privateKey.extractable, publicKey.usages.join(), privateKey.usages.join());
		}
		out.push(await errName(subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])));
		return out;
	`, []any{true, true, true, false, "verify", "sign", true, true, true, false, "verify", "sign", true, true, true, false, "verify", "sign", "SyntaxError"})
}

func TestCryptoEd25519(t *testing.T) {
	// RFC 8032 section 7.1, TEST 1 (empty message).
	cryptoExpect(t, `
		const u = (h) => unhex(h).toBase64({ alphabet: "base64url", omitPadding: true });
		const d = u("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
		const x = u("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
		const want = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
		const priv = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d, x }, "Ed25519", true, ["sign"]);
		const pub = await subtle.importKey("raw", unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), { name: "Ed25519" }, true, ["verify"]);
		const sig = await subtle.sign("Ed25519", priv, new Uint8Array(0));
		const pkcs8 = await subtle.exportKey("pkcs8", priv);
		const priv2 = await subtle.importKey("pkcs8", pkcs8, "Ed25519", false, ["sign"]);
		const spki = await subtle.exportKey("spki", pub);
		const pub2 = await subtle.importKey("spki", spki, "Ed25519", false, ["verify"]);
		const gen = await subtle.generateKey("Ed25519", false, ["sign", "verify"]);
		const gsig = await subtle.sign("Ed25519", gen.privateKey, text("hi"));
		const bad = new Uint8Array(sig).slice(); bad[0] ^= 1;
		return [
			hex(sig), hex(await subtle.sign("Ed25519", priv2, new Uint8Array(0))) === want,
			await subtle.verify("Ed25519", pub, sig, new Uint8Array(0)),
			await subtle.verify("Ed25519", pub2, bad, new Uint8Array(0)),
			await subtle.verify("Ed25519", pub, sig, text("x")),
			await subtle.verify("Ed25519", gen.publicKey, gsig, text("hi")),
			await subtle.exportKey("jwk", pub),
			pub.algorithm, spki.byteLength, pkcs8.byteLength,
			await errName(subtle.importKey("raw", new Uint8Array(31), "Ed25519", true, ["verify"])),
			await errName(subtle.importKey("jwk", { kty: "OKP", crv: "X25519", x }, "Ed25519", true, ["verify"])),
			await errName(subtle.exportKey("raw", gen.privateKey)),
		];
	`, []any{
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
		true, true, false, false, true,
		map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "Ed25519", "key_ops": []any{"verify"}, "ext": true},
		map[string]any{"name": "Ed25519"}, 44, 48,
		"DataError", "DataError", "InvalidAccessError",
	})
}

func rsaJS(body string) string {
	return "const SPKI = unb64(\"" + rsaSPKI + "\");\nconst PKCS8 = unb64(\"" + rsaPKCS8 + "\");\n" +
		"const SIG = unb64(\"" + rsaSigHelloJWT + "\");\nconst N = \"" + rsaJWKN + "\";\n" +
		"const RS = { name: \"RSASSA-PKCS1-v1_5\", hash: \"SHA-256\" };\n" + body
}

func TestCryptoRSASSAKnownAnswer(t *testing.T) {
	cryptoExpect(t, rsaJS(`
		const pub = await subtle.importKey("spki", SPKI, RS, false, ["verify"]);
		const jpub = await subtle.importKey("jwk", { kty: "RSA", n: N, e: "AQAB", alg: "RS256", use: "sig" }, RS, true, ["verify"]);
		const priv = await subtle.importKey("pkcs8", PKCS8, RS, true, ["sign"]);
		const bad = SIG.slice(); bad[100] ^= 1;
		const jwkPriv = await subtle.exportKey("jwk", priv);
		const priv2 = await subtle.importKey("jwk", jwkPriv, RS, false, ["sign"]);
		return [
			await subtle.verify("RSASSA-PKCS1-v1_5", pub, SIG, text("hello JWT")),
			await subtle.verify("RSASSA-PKCS1-v1_5", jpub, SIG, text("hello JWT")),
			await subtle.verify("RSASSA-PKCS1-v1_5", pub, bad, text("hello JWT")),
			await subtle.verify("RSASSA-PKCS1-v1_5", pub, SIG, text("hello JWT!")),
			b64(await subtle.sign("RSASSA-PKCS1-v1_5", priv, text("hello JWT"))) === b64(SIG),
			b64(await subtle.sign("RSASSA-PKCS1-v1_5", priv2, text("hello JWT"))) === b64(SIG),
			jpub.algorithm.modulusLength, Array.from(jpub.algorithm.publicExponent), jpub.algorithm.hash,
			(await subtle.exportKey("jwk", jpub)).n === N, b64(await subtle.exportKey("spki", jpub)) === b64(SPKI),
			jwkPriv.alg, ["d", "p", "q", "dp", "dq", "qi"].every((f) => typeof jwkPriv[f] === "string"),
		];
	`), []any{true, true, false, false, true, true, 2048, []any{1, 0, 1}, map[string]any{"name": "SHA-256"}, true, true, "RS256", true})
}

func TestCryptoRSAErrors(t *testing.T) {
	cryptoExpect(t, rsaJS(`
		return [
			await errName(subtle.importKey("jwk", { kty: "RSA", n: N, e: "AQAB", alg: "RS384" }, RS, true, ["verify"])),
			await errName(subtle.importKey("jwk", { kty: "RSA", n: N, e: "AQAB" }, RS, true, ["sign"])),
			await errName(subtle.importKey("jwk", { kty: "RSA", e: "AQAB" }, RS, true, ["verify"])),
			await errName(subtle.importKey("raw", SPKI, RS, true, ["verify"])),
			await errName(subtle.importKey("spki", SPKI, { name: "RSASSA-PKCS1-v1_5" }, true, ["verify"])),
			await errName(subtle.importKey("spki", SPKI.slice(0, 100), RS, true, ["verify"])),
			await errName(subtle.importKey("spki", SPKI, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"])),
			await errName(subtle.importKey("pkcs8", PKCS8, RS, true, ["verify"])),
		];
	`), []any{"DataError", "SyntaxError", "DataError", "NotSupportedError", "TypeError", "DataError", "DataError", "SyntaxError"})
}

func TestCryptoRSAPSSAndOAEP(t *testing.T) {
	cryptoExpect(t, rsaJS(`
		const PS = { name: "RSA-PSS", hash: "SHA-256" };
		const pssPriv = await subtle.importKey("pkcs8", PKCS8, PS, false, ["sign"]);
		const pssPub = await subtle.importKey("spki", SPKI, PS, false, ["verify"]);
		const s1 = await subtle.sign({ name: "RSA-PSS", saltLength: 32 }, pssPriv, text("m"));
		const OA = { name: "RSA-OAEP", hash: "SHA-256" };
		const oPub = await subtle.importKey("spki", SPKI, OA, false, ["encrypt"]);
		const oPriv = await subtle.importKey("pkcs8", PKCS8, OA, false, ["decrypt"]);
		const ct = await subtle.encrypt({ name: "RSA-OAEP", label: text("L") }, oPub, text("key material"));
		return [
			await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssPub, s1, text("m")),
			await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssPub, s1, text("n")),
			await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssPub, SIG, text("hello JWT")),
			await errName(subtle.verify("RSASSA-PKCS1-v1_5", pssPub, SIG, text("hello JWT"))),
			ct.byteLength, new TextDecoder().decode(await subtle.decrypt({ name: "RSA-OAEP", label: text("L") }, oPriv, ct)),
			await errName(subtle.decrypt({ name: "RSA-OAEP", label: text("M") }, oPriv, ct)),
		];
	`), []any{true, false, false, "InvalidAccessError", 256, "key material", "OperationError"})
}

func TestCryptoRSAGenerateKey(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA key generation is slow")
	}
	cryptoExpect(t, `
		const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
		const { publicKey, privateKey } = await subtle.generateKey(alg, true, ["sign", "verify"]);
		const sig = await subtle.sign(alg, privateKey, text("x"));
		return [
			publicKey.algorithm.modulusLength, sig.byteLength, await subtle.verify(alg, publicKey, sig, text("x")),
			await errName(subtle.generateKey(Object.assign({}, alg, { publicExponent: new Uint8Array([3]) }), true, ["sign"])),
			await errName(subtle.generateKey(Object.assign({}, alg, { modulusLength: 16384 }), true, ["sign"])),
		];
	`, []any{2048, 256, true, "OperationError", "OperationError"})
}

func TestCryptoDigestStream(t *testing.T) {
	out := evalJS(t, cryptoJS+`
		const s = new crypto.DigestStream("SHA-256");
		const w = s.getWriter();
		await w.write(text("a"));
		await w.write(text("b").buffer);
		await w.write(text("c" + "x".repeat(200)).subarray(0, 1));
		await w.close();
		return [hex(await s.digest), s instanceof WritableStream, await errName(() => new crypto.DigestStream("MD5"))];
	`)
	want := `["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",true,"NotSupportedError"]`
	if out != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}

func TestCryptoX25519(t *testing.T) {
	// RFC 7748 section 6.1.
	cryptoExpect(t, `
		const u = (h) => unhex(h).toBase64({ alphabet: "base64url", omitPadding: true });
		const alice = await subtle.importKey("jwk", { kty: "OKP", crv: "X25519",
			d: u("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
			x: u("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a") }, "X25519", true, ["deriveBits", "deriveKey"]);
		const bob = await subtle.importKey("raw", unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), "X25519", true, []);
		const gen = await subtle.generateKey("X25519", false, ["deriveBits"]);
		const a1 = await subtle.deriveBits({ name: "X25519", public: gen.publicKey }, alice, 256);
		const alice2 = await subtle.importKey("jwk", await subtle.exportKey("jwk", alice), "X25519", false, ["deriveBits"]);
		const a2 = await subtle.deriveBits({ name: "X25519", public: bob }, alice2, null);
		const g = await subtle.deriveBits({ name: "X25519", public: await subtle.importKey("spki", await subtle.exportKey("spki", await subtle.importKey("raw", unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), "X25519", true, [])), "X25519", true, []) }, gen.privateKey, 256);
		const aes = await subtle.deriveKey({ name: "X25519", public: bob }, alice, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
		return [
			hex(await subtle.deriveBits({ name: "X25519", public: bob }, alice, 256)),
			hex(await subtle.deriveBits({ name: "X25519", public: bob }, alice, 12)),
			hex(a1) === hex(g), hex(a2), hex(await subtle.exportKey("raw", aes)),
			(await subtle.exportKey("jwk", bob)).alg === undefined, bob.usages, alice.algorithm,
			await errName(subtle.deriveBits({ name: "X25519", public: bob }, alice, 264)),
			await errName(subtle.deriveBits({ name: "X25519", public: alice }, alice, 256)),
			await errName(subtle.deriveBits({ name: "X25519" }, alice, 256)),
			await errName(subtle.importKey("raw", new Uint8Array(32), "X25519", true, ["deriveBits"])),
			await errName(subtle.sign("X25519", alice, text("x"))),
		];
	`, []any{"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "4a50", true,
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		"4a5d9d5ba4ce2de1728e3bf480350f25", true, []any{}, map[string]any{"name": "X25519"},
		"OperationError", "InvalidAccessError", "TypeError", "SyntaxError", "NotSupportedError"})
}

func TestCryptoECDH(t *testing.T) {
	cryptoExpect(t, `
		const EC = { name: "ECDH", namedCurve: "P-256" };
		const a = await subtle.generateKey(EC, true, ["deriveBits"]);
		const b = await subtle.generateKey(EC, false, ["deriveBits"]);
		const ab = await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 256);
		const ba = await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 256);
		const bRaw = await subtle.importKey("raw", await subtle.exportKey("raw", b.publicKey), EC, true, []);
		const ab2 = await subtle.deriveBits({ name: "ECDH", public: bRaw }, a.privateKey, 128);
		const p384 = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, false, ["deriveBits"]);
		const ecdsa = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
		const jwk = await subtle.exportKey("jwk", a.privateKey);
		return [
			hex(ab) === hex(ba), hex(ab).slice(0, 32) === hex(ab2), a.publicKey.usages, a.privateKey.algorithm,
			jwk.kty, jwk.crv, jwk.alg === undefined, typeof jwk.d,
			await errName(subtle.deriveBits({ name: "ECDH", public: p384.publicKey }, a.privateKey, 256)),
			await errName(subtle.deriveBits({ name: "ECDH", public: ecdsa.publicKey }, a.privateKey, 256)),
			await errName(subtle.deriveBits({ name: "ECDSA", public: b.publicKey }, a.privateKey, 256)),
			await errName(subtle.importKey("raw", await subtle.exportKey("raw", b.publicKey), EC, true, ["deriveBits"])),
		];
	`, []any{true, true, []any{}, map[string]any{"name": "ECDH", "namedCurve": "P-256"}, "EC", "P-256", true, "string",
		"InvalidAccessError", "InvalidAccessError", "NotSupportedError", "SyntaxError"})
}

func TestCryptoNodeEd25519(t *testing.T) {
	// Cloudflare's legacy algorithm name, as used to verify Discord
	// interaction signatures; RFC 8032 TEST 1 again.
	cryptoExpect(t, `
		const alg = { name: "NODE-ED25519", namedCurve: "NODE-ED25519" };
		const pub = await subtle.importKey("raw", unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), alg, true, ["verify"]);
		const sig = unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
		return [
			await subtle.verify(alg, pub, sig, new Uint8Array(0)),
			await subtle.verify("NODE-ED25519", pub, sig, text("x")),
			pub.algorithm,
			await errName(subtle.verify("Ed25519", pub, sig, new Uint8Array(0))),
			await errName(subtle.importKey("raw", new Uint8Array(32), { name: "NODE-ED25519" }, true, ["verify"])),
		];
	`, []any{true, false, map[string]any{"name": "NODE-ED25519", "namedCurve": "NODE-ED25519"}, "InvalidAccessError", "NotSupportedError"})
}

func TestCryptoPBKDF2WorkLimit(t *testing.T) {
	cryptoExpect(t, `
		const pw = await subtle.importKey("raw", text("pw"), "PBKDF2", false, ["deriveBits"]);
		const p = { name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 100000 };
		return [
			(await subtle.deriveBits(p, pw, 256)).byteLength,
			await errName(subtle.deriveBits(p, pw, 32 * 8 * 17)),
			(await subtle.deriveBits(Object.assign({}, p, { iterations: 1 }), pw, 8192)).byteLength,
			(await subtle.deriveBits(p, pw, 0)).byteLength,
		];
	`, []any{32, "NotSupportedError", 1024, 0})
}

func TestCryptoKeyMaterialStaysPrivate(t *testing.T) {
	// App code that replaces built-ins must not be handed a key's slots or
	// the material of a non-extractable generated, derived or unwrapped key.
	cryptoExpect(t, `
		const wm = WeakMap.prototype, u8 = Uint8Array.prototype;
		const orig = { get: wm.get, has: wm.has, set: wm.set, toBase64: u8.toBase64 };
		const maps = [], encoded = [];
		const pbkdf = { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(8), iterations: 2 };
		const pwBits = await subtle.importKey("raw", new Uint8Array([1, 2, 3]), "PBKDF2", false, ["deriveBits"]);
		const derivedMaterial = hex(await subtle.deriveBits(pbkdf, pwBits, 256));
		// 16 bytes of 0x01 wrapped under an all-zero AES key with a zero IV.
		const wrapped = await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) },
			await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]), new Uint8Array(16).fill(1));
		wm.get = function (k) { maps.push(this); return orig.get.call(this, k); };
		wm.has = function (k) { maps.push(this); return orig.has.call(this, k); };
		wm.set = function (k, v) { maps.push(this); return orig.set.call(this, k, v); };
		u8.toBase64 = function (...a) { encoded.push(hex(this)); return orig.toBase64.apply(this, a); };
		let hmac, derived, unwrapped, hmacEncodes;
		try {
			hmac = await subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 100 }, false, ["sign"]);
			hmacEncodes = encoded.length;
			const pw = await subtle.importKey("raw", new Uint8Array([1, 2, 3]), "PBKDF2", false, ["deriveKey"]);
			derived = await subtle.deriveKey(pbkdf, pw, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
			const kek = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["unwrapKey"]);
			unwrapped = await subtle.unwrapKey("raw", wrapped, kek, { name: "AES-GCM", iv: new Uint8Array(12) }, "AES-GCM", false, ["encrypt"]);
		} finally {
			Object.assign(wm, { get: orig.get, has: orig.has, set: orig.set });
			u8.toBase64 = orig.toBase64;
		}
		const leaked = maps.some((m) => [hmac, derived, unwrapped].some((k) => orig.get.call(m, k) !== undefined));
		return [leaked, hmacEncodes, encoded.includes(derivedMaterial), encoded.includes("01".repeat(16)), unwrapped.algorithm.length, derived.algorithm.length];
	`, []any{false, 0, false, false, 128, 256})
}
