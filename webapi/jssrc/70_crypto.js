// Web Crypto: crypto.getRandomValues, crypto.randomUUID, crypto.subtle
// (SubtleCrypto, CryptoKey) and Cloudflare's extensions
// crypto.subtle.timingSafeEqual and crypto.DigestStream. The cryptography
// itself runs in Go (webapi/crypto.go); this file validates arguments the
// way the Web Crypto spec does and keeps key material out of app code's
// reach: a CryptoKey's material lives in the closure-private WeakMap _keySlots
// and is passed to Go per call (base64; asymmetric keys as SPKI / PKCS #8).

// The whole file is one block, so its names (functions too: the prelude is
// strict code) cannot collide with those of other prelude files.
{
const _CRYPTO_MAX_INPUT = 16 * 1024 * 1024; // base64 of it must fit in a 128 MiB isolate
const _CRYPTO_ERRORS = /\b(DataError|OperationError|NotSupportedError|InvalidAccessError|QuotaExceededError|SyntaxError|TypeMismatchError|TypeError): ([\s\S]*)$/;

function _cryptoError(message, name) {
  if (typeof DOMException === "undefined") {
    const e = new Error(message);
    e.name = name;
    return e;
  }
  return new DOMException(message, name);
}

// _chost calls a crypto host op, turning "Name: message" Go errors into
// DOMExceptions of that name.
function _chost(op, ...args) {
  try {
    return host(op, ...args);
  } catch (e) {
    const msg = String(e && e.message !== undefined ? e.message : e);
    const m = _CRYPTO_ERRORS.exec(msg);
    if (!m) throw _cryptoError(msg, "OperationError");
    if (m[1] === "TypeError") throw new TypeError(m[2]);
    throw _cryptoError(m[2], m[1]);
  }
}

// _bytes copies a BufferSource argument into base64 for the host.
function _bytes(x, what) {
  if (!isBufferSource(x)) throw new TypeError(`${what} must be an ArrayBuffer or ArrayBufferView`);
  const u = toBytes(x);
  if (u.byteLength > _CRYPTO_MAX_INPUT) {
    throw _cryptoError(`${what} is ${u.byteLength} bytes; this runtime limits crypto inputs to 16 MiB`, "QuotaExceededError");
  }
  return b64(u);
}

function _buf(s) { return fromB64(s).buffer; }

function _b64urlEncode(u8) {
  return b64(u8).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function _b64urlDecode(s, field) {
  if (typeof s !== "string" || !/^[A-Za-z0-9_-]*$/.test(s)) throw _cryptoError(`JWK member "${field}" must be a base64url string`, "DataError");
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  try { return fromB64(s); } catch { throw _cryptoError(`JWK member "${field}" is not valid base64url`, "DataError"); }
}

// ---- Algorithm names ----

const _ALGORITHMS = ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "HMAC", "AES-GCM", "AES-CBC", "PBKDF2", "HKDF",
  "ECDSA", "ECDH", "Ed25519", "X25519", "NODE-ED25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const _algByUpper = new Map(_ALGORITHMS.map((n) => [n.toUpperCase(), n]));
const _HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

// _normalize returns [normalized name, the algorithm dictionary].
function _normalize(alg) {
  if (typeof alg === "string") alg = { name: alg };
  if (alg === null || (typeof alg !== "object" && typeof alg !== "function")) {
    throw new TypeError("Algorithm must be a string or an object with a name member");
  }
  if (alg.name === undefined) throw new TypeError("Algorithm: name member is required");
  const name = _algByUpper.get(String(alg.name).toUpperCase());
  if (!name) throw _cryptoError(`Unrecognized or unimplemented algorithm: ${String(alg.name)}`, "NotSupportedError");
  return [name, alg];
}

function _hashName(h, required = true) {
  if (h === undefined) {
    if (!required) return undefined;
    throw new TypeError("Algorithm: hash member is required");
  }
  const [name] = _normalize(h);
  if (!_HASHES.includes(name)) throw _cryptoError(`${name} is not a hash algorithm`, "NotSupportedError");
  return name;
}

function _digestName(alg) {
  const [name] = _normalize(alg);
  if (!_HASHES.includes(name)) throw _cryptoError(`Unrecognized or unimplemented digest algorithm: ${name}`, "NotSupportedError");
  return name;
}

function _intMember(alg, member, required) {
  const v = alg[member];
  if (v === undefined) {
    if (required) throw new TypeError(`Algorithm: ${member} member is required`);
    return undefined;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`Algorithm: ${member} must be a number`);
  return Math.trunc(n);
}

// ---- CryptoKey ----

const _USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const _keySlots = new WeakMap();
// WeakMap methods captured before app code runs: a replaced
// WeakMap.prototype.get would otherwise receive _keySlots itself.
const _apply = Reflect.apply;
const _wmGet = WeakMap.prototype.get, _wmSet = WeakMap.prototype.set, _wmHas = WeakMap.prototype.has;
const _isKey = (k) => k !== null && typeof k === "object" && _apply(_wmHas, _keySlots, [k]);

// _RawB64 carries key material between internal steps (deriveKey,
// unwrapKey, generateKey) as base64, so that it never passes through
// buffers or built-ins that app code could have replaced.
const _jsonParse = JSON.parse;
class _RawB64 { constructor(s) { this.s = s; } }
function _b64ByteLength(s) {
  const pad = s.length && s[s.length - 1] === "=" ? (s[s.length - 2] === "=" ? 2 : 1) : 0;
  return s.length / 4 * 3 - pad;
}
const _keyToken = Symbol("CryptoKey");

class CryptoKey {
  constructor(token, slot) {
    if (token !== _keyToken) throw new TypeError("Illegal constructor");
    _apply(_wmSet, _keySlots, [this, slot]);
  }
  get type() { return _slot(this).type; }
  get extractable() { return _slot(this).extractable; }
  get algorithm() { return _slot(this).algorithm; }
  get usages() { return _slot(this).usages; }
  get [Symbol.toStringTag]() { return "CryptoKey"; }
}

function _slot(key) {
  const s = _isKey(key) ? _apply(_wmGet, _keySlots, [key]) : undefined;
  if (!s) throw new TypeError("Expected a CryptoKey");
  return s;
}

function _usageList(usages) {
  if (usages === null || typeof usages !== "object" || typeof usages[Symbol.iterator] !== "function") {
    throw new TypeError("keyUsages must be a sequence of strings");
  }
  const list = [];
  for (const u of usages) {
    const s = String(u);
    if (!_USAGES.includes(s)) throw new TypeError(`'${s}' is not a valid key usage`);
    list.push(s);
  }
  return _USAGES.filter((u) => list.includes(u));
}

// _checkUsages throws SyntaxError when a usage is not in allowed.
function _checkUsages(usages, allowed, what) {
  for (const u of usages) {
    if (!allowed.includes(u)) throw _cryptoError(`Usage '${u}' is not valid for ${what}`, "SyntaxError");
  }
}

function _newKey(type, extractable, algorithm, usages, material, extra) {
  if ((type === "secret" || type === "private") && usages.length === 0) {
    throw _cryptoError(`Usages cannot be empty when creating a ${type} key`, "SyntaxError");
  }
  return new CryptoKey(_keyToken, Object.assign({
    type, extractable: !!extractable, algorithm: Object.freeze(algorithm), usages: Object.freeze(usages.slice()), material,
  }, extra || {}));
}

// _useKey checks that key suits the operation and returns its slot.
function _useKey(key, name, usage) {
  if (!_isKey(key)) throw new TypeError("Expected a CryptoKey");
  const s = _slot(key);
  if (s.algorithm.name !== name) {
    throw _cryptoError(`The requested operation is not valid for the provided key (key algorithm is ${s.algorithm.name}, not ${name})`, "InvalidAccessError");
  }
  if (!s.usages.includes(usage)) {
    throw _cryptoError(`The requested operation is not valid for the provided key (it lacks the '${usage}' usage)`, "InvalidAccessError");
  }
  return s;
}

function _jwkArg(keyData) {
  if (keyData === null || typeof keyData !== "object" || isBufferSource(keyData)) {
    throw new TypeError("Key data for the jwk format must be a JsonWebKey object");
  }
  return keyData;
}

function _bufferArg(keyData) {
  if (keyData instanceof _RawB64) return keyData.s;
  if (!isBufferSource(keyData)) throw new TypeError("Key data must be an ArrayBuffer or ArrayBufferView");
  return _bytes(keyData, "Key data");
}

// Checks common to every JWK import (RFC 7517 use / key_ops / ext).
function _checkJwk(jwk, kty, usages, extractable, use) {
  if (jwk.kty !== kty) throw _cryptoError(`JWK kty must be "${kty}"`, "DataError");
  if (usages.length && jwk.use !== undefined && jwk.use !== use) throw _cryptoError(`JWK use must be "${use}"`, "DataError");
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops)) throw _cryptoError("JWK key_ops must be an array", "DataError");
    for (const u of usages) {
      if (!jwk.key_ops.includes(u)) throw _cryptoError(`JWK key_ops does not permit '${u}'`, "DataError");
    }
  }
  if (jwk.ext === false && extractable) throw _cryptoError("JWK is not extractable (ext is false)", "DataError");
}

function _jwkOut(s, fields) {
  return Object.assign(fields, { key_ops: s.usages.slice(), ext: s.extractable });
}

// ---- Algorithms ----
//
// Each entry implements some of: importKey(format, data, alg, extractable,
// usages), exportKey(format, slot), generateKey(alg, extractable, usages),
// sign/verify/encrypt/decrypt(alg, slot, ...), deriveBits(alg, slot, length),
// keyLength(alg) (for deriveKey).

const _HMAC_JWK_ALG = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };
const _HASH_BLOCK_BITS = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };

const _hmac = {
  importKey(format, keyData, alg, extractable, usages) {
    const hash = _hashName(alg.hash);
    _checkUsages(usages, ["sign", "verify"], "HMAC keys");
    let material;
    if (format === "raw") material = _bufferArg(keyData);
    else if (format === "jwk") {
      const jwk = _jwkArg(keyData);
      _checkJwk(jwk, "oct", usages, extractable, "sig");
      material = b64(_b64urlDecode(jwk.k, "k"));
      if (jwk.alg !== undefined && jwk.alg !== _HMAC_JWK_ALG[hash]) throw _cryptoError(`JWK alg ${jwk.alg} does not match hash ${hash}`, "DataError");
    } else throw _cryptoError(`Unsupported key format '${format}' for HMAC`, "NotSupportedError");
    const bits = _b64ByteLength(material) * 8;
    if (bits === 0) throw _cryptoError("HMAC key data must not be empty", "DataError");
    let length = _intMember(alg, "length", false);
    if (length === undefined) length = bits;
    else if (length > bits || length <= bits - 8) throw _cryptoError(`HMAC key length ${length} does not match the key data (${bits} bits)`, "DataError");
    return _newKey("secret", extractable, { name: "HMAC", hash: { name: hash }, length }, usages, material);
  },
  exportKey(format, s) {
    if (format === "raw") return _buf(s.material);
    if (format === "jwk") {
      return _jwkOut(s, { kty: "oct", k: _b64urlEncode(fromB64(s.material)), alg: _HMAC_JWK_ALG[s.algorithm.hash.name] });
    }
    throw _cryptoError(`Unsupported key format '${format}' for HMAC`, "NotSupportedError");
  },
  keyLength(alg) {
    const hash = _hashName(alg.hash);
    const length = _intMember(alg, "length", false);
    if (length === 0) throw _cryptoError("HMAC key length must not be zero", "TypeError");
    return length === undefined ? _HASH_BLOCK_BITS[hash] : length;
  },
  generateKey(alg, extractable, usages) {
    const hash = _hashName(alg.hash);
    _checkUsages(usages, ["sign", "verify"], "HMAC keys");
    const length = _intMember(alg, "length", false) ?? _HASH_BLOCK_BITS[hash];
    if (length <= 0 || length > 8192) throw _cryptoError(`Invalid HMAC key length ${length}`, "OperationError");
    return _newKey("secret", extractable, { name: "HMAC", hash: { name: hash }, length }, usages, _chost("crypto.randomBits", length));
  },
  sign(alg, s, data) {
    return _buf(_chost("crypto.hmacSign", s.algorithm.hash.name, s.material, _bytes(data, "data")));
  },
  verify(alg, s, sig, data) {
    return _chost("crypto.hmacVerify", s.algorithm.hash.name, s.material, _bytes(data, "data"), _bytes(sig, "signature"));
  },
};

function _aes(name, jwkSuffix) {
  return {
    importKey(format, keyData, alg, extractable, usages) {
      _checkUsages(usages, ["encrypt", "decrypt", "wrapKey", "unwrapKey"], `${name} keys`);
      let material, jwkAlg;
      if (format === "raw") material = _bufferArg(keyData);
      else if (format === "jwk") {
        const jwk = _jwkArg(keyData);
        _checkJwk(jwk, "oct", usages, extractable, "enc");
        material = b64(_b64urlDecode(jwk.k, "k"));
        jwkAlg = jwk.alg;
      } else throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      const bytes = _b64ByteLength(material);
      if (bytes !== 16 && bytes !== 24 && bytes !== 32) throw _cryptoError(`${name} key data must be 128, 192 or 256 bits`, "DataError");
      if (jwkAlg !== undefined && jwkAlg !== `A${bytes * 8}${jwkSuffix}`) throw _cryptoError(`JWK alg ${jwkAlg} does not match the key`, "DataError");
      return _newKey("secret", extractable, { name, length: bytes * 8 }, usages, material);
    },
    exportKey(format, s) {
      if (format === "raw") return _buf(s.material);
      if (format === "jwk") {
        return _jwkOut(s, { kty: "oct", k: _b64urlEncode(fromB64(s.material)), alg: `A${s.algorithm.length}${jwkSuffix}` });
      }
      throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
    },
    keyLength(alg) {
      const length = _intMember(alg, "length", true);
      if (![128, 192, 256].includes(length)) throw _cryptoError(`${name} key length must be 128, 192 or 256`, "OperationError");
      return length;
    },
    generateKey(alg, extractable, usages) {
      _checkUsages(usages, ["encrypt", "decrypt", "wrapKey", "unwrapKey"], `${name} keys`);
      const length = this.keyLength(alg);
      return _newKey("secret", extractable, { name, length }, usages, _chost("crypto.random", length / 8));
    },
    encrypt(alg, s, data) { return this.crypt(true, alg, s, data); },
    decrypt(alg, s, data) { return this.crypt(false, alg, s, data); },
    crypt(enc, alg, s, data) {
      if (alg.iv === undefined) throw new TypeError(`${name}: iv member is required`);
      const iv = _bytes(alg.iv, "iv");
      if (name === "AES-CBC") return _chost("crypto.aesCbc", enc, s.material, iv, _bytes(data, "data"));
      const aad = alg.additionalData === undefined ? "" : _bytes(alg.additionalData, "additionalData");
      const tagLength = _intMember(alg, "tagLength", false) ?? 128;
      if (![32, 64, 96, 104, 112, 120, 128].includes(tagLength)) throw _cryptoError(`Invalid AES-GCM tagLength ${tagLength}`, "OperationError");
      return _chost("crypto.aesGcm", enc, s.material, iv, _bytes(data, "data"), aad, tagLength / 8);
    },
  };
}

function _kdf(name) {
  return {
    importKey(format, keyData, alg, extractable, usages) {
      if (format !== "raw") throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      if (extractable) throw _cryptoError(`${name} keys cannot be extractable`, "SyntaxError");
      _checkUsages(usages, ["deriveKey", "deriveBits"], `${name} keys`);
      return _newKey("secret", false, { name }, usages, _bufferArg(keyData));
    },
    deriveBits(alg, s, length) {
      if (length === null || length === undefined) throw _cryptoError(`${name} requires a length`, "OperationError");
      const hash = _hashName(alg.hash);
      if (alg.salt === undefined) throw new TypeError(`${name}: salt member is required`);
      const salt = _bytes(alg.salt, "salt");
      if (name === "PBKDF2") {
        const iterations = _intMember(alg, "iterations", true);
        return _chost("crypto.pbkdf2", hash, s.material, salt, iterations, length);
      }
      if (alg.info === undefined) throw new TypeError("HKDF: info member is required");
      return _chost("crypto.hkdf", hash, s.material, salt, _bytes(alg.info, "info"), length);
    },
  };
}

// Asymmetric algorithms: kind is the JWK kty, and Go's name for the family.
const _EC_JWK_ALG = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const _RSA_JWK_ALG = {
  "RSASSA-PKCS1-v1_5": { "SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512" },
  "RSA-PSS": { "SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512" },
  "RSA-OAEP": { "SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512" },
};

function _asym(name, kind, publicUsages, privateUsages) {
  const use = publicUsages.includes("verify") ? "sig" : "enc";
  const agreement = privateUsages.includes("deriveBits");
  const goName = kind === "OKP" ? "Ed25519" : name;
  // params reads the algorithm-specific import/generate parameters.
  function params(alg) {
    if (kind === "EC") {
      if (alg.namedCurve === undefined) throw new TypeError(`${name}: namedCurve member is required`);
      const curve = String(alg.namedCurve);
      if (!_EC_JWK_ALG[curve]) throw _cryptoError(`Unrecognized or unimplemented EC curve: ${curve}`, "NotSupportedError");
      return { param: curve, algorithm: { name, namedCurve: curve } };
    }
    if (kind === "RSA") {
      const hash = _hashName(alg.hash);
      return { param: "", hash, algorithm: { name, hash: { name: hash } } };
    }
    // Cloudflare's legacy name for Ed25519 carries a namedCurve.
    if (name === "NODE-ED25519") {
      if (alg.namedCurve !== "NODE-ED25519") throw _cryptoError("NODE-ED25519: namedCurve must be \"NODE-ED25519\"", "NotSupportedError");
      return { param: "Ed25519", algorithm: { name, namedCurve: "NODE-ED25519" } };
    }
    return { param: name === "X25519" ? "X25519" : "Ed25519", algorithm: { name } };
  }
  // jwkAlg is the JWK "alg" of a key (undefined for key-agreement keys).
  function jwkAlg(p) {
    if (agreement) return undefined;
    if (kind === "EC") return _EC_JWK_ALG[p.param];
    if (kind === "RSA") return _RSA_JWK_ALG[name][p.hash];
    return "Ed25519";
  }
  function makeKey(info, p, extractable, usages) {
    const algorithm = Object.assign({}, p.algorithm);
    if (kind === "RSA") {
      algorithm.modulusLength = info.modulusLength;
      algorithm.publicExponent = fromB64(info.publicExponent);
    }
    const allowed = info.type === "private" ? privateUsages : publicUsages;
    _checkUsages(usages, allowed, `${name} ${info.type} keys`);
    return _newKey(info.type, extractable, algorithm, usages, info.der, { kind, param: p.param, jwkAlg: jwkAlg(p) });
  }
  const impl = {
    importKey(format, keyData, alg, extractable, usages) {
      const p = params(alg);
      let data;
      if (format === "jwk") {
        const jwk = _jwkArg(keyData);
        _checkJwk(jwk, kind, usages, extractable, use);
        if (jwk.alg !== undefined && !agreement) {
          const ok = kind === "OKP" ? jwk.alg === "Ed25519" || jwk.alg === "EdDSA" : jwk.alg === jwkAlg(p);
          if (!ok) throw _cryptoError(`JWK alg ${jwk.alg} does not match the ${name} algorithm`, "DataError");
        }
        data = JSON.stringify(jwk);
      } else if (format === "spki" || format === "pkcs8" || (format === "raw" && kind !== "RSA")) {
        data = _bufferArg(keyData);
      } else throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      const info = JSON.parse(_chost("crypto.importAsym", kind, p.param, format, data));
      if (format === "raw" && info.type !== "public") throw _cryptoError("raw keys must be public", "DataError");
      return makeKey(info, p, extractable, usages);
    },
    exportKey(format, s) {
      if (format !== "jwk" && format !== "spki" && format !== "pkcs8" && !(format === "raw" && kind !== "RSA")) {
        throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      }
      const out = _chost("crypto.exportAsym", s.kind, s.param, s.type === "private", format, s.material);
      if (format !== "jwk") return _buf(out);
      const jwk = JSON.parse(out);
      if (s.jwkAlg !== undefined) jwk.alg = s.jwkAlg;
      return _jwkOut(s, jwk);
    },
    generateKey(alg, extractable, usages) {
      const p = params(alg);
      _checkUsages(usages, publicUsages.concat(privateUsages), `${name} keys`);
      let param = p.param;
      if (kind === "RSA") {
        param = _intMember(alg, "modulusLength", true);
        if (!(alg.publicExponent instanceof Uint8Array)) throw new TypeError(`${name}: publicExponent must be a Uint8Array`);
        const e = alg.publicExponent.reduce((a, b) => a * 256 + b, 0);
        if (e !== 65537) throw _cryptoError("Only the public exponent 65537 is supported", "OperationError");
      }
      const pair = JSON.parse(_chost("crypto.generatePair", kind, param));
      const publicKey = makeKey(pair.publicKey, p, true, usages.filter((u) => publicUsages.includes(u)));
      const privateKey = makeKey(pair.privateKey, p, extractable, usages.filter((u) => privateUsages.includes(u)));
      return { publicKey, privateKey };
    },
    sign(alg, s, data) {
      const hash = kind === "EC" ? _hashName(alg.hash) : kind === "RSA" ? s.algorithm.hash.name : "";
      const salt = name === "RSA-PSS" ? _intMember(alg, "saltLength", true) : 0;
      return _buf(_chost("crypto.signAsym", goName, s.param, hash, s.material, _bytes(data, "data"), "", salt));
    },
    verify(alg, s, sig, data) {
      const hash = kind === "EC" ? _hashName(alg.hash) : kind === "RSA" ? s.algorithm.hash.name : "";
      const salt = name === "RSA-PSS" ? _intMember(alg, "saltLength", true) : 0;
      return _chost("crypto.verifyAsym", goName, s.param, hash, s.material, _bytes(data, "data"), _bytes(sig, "signature"), salt);
    },
    encrypt(alg, s, data) { return this.oaep(true, alg, s, data); },
    decrypt(alg, s, data) { return this.oaep(false, alg, s, data); },
    oaep(enc, alg, s, data) {
      const label = alg.label === undefined ? "" : _bytes(alg.label, "label");
      return _chost("crypto.rsaOaep", enc, s.algorithm.hash.name, s.material, _bytes(data, "data"), label);
    },
    deriveBits(alg, s, length) {
      const pub = alg.public;
      if (!_isKey(pub)) throw new TypeError(`${name}: public member must be a CryptoKey`);
      const ps = _slot(pub);
      if (ps.type !== "public") throw _cryptoError(`${name}: public member must be a public key`, "InvalidAccessError");
      if (ps.algorithm.name !== name || ps.param !== s.param) {
        throw _cryptoError(`${name}: the public key's algorithm does not match the private key's`, "InvalidAccessError");
      }
      return _chost("crypto.ecdh", kind, s.param, s.material, ps.material, length === null ? -1 : length);
    },
  };
  if (!privateUsages.includes("sign")) { delete impl.sign; delete impl.verify; }
  if (!privateUsages.includes("decrypt")) { delete impl.encrypt; delete impl.decrypt; }
  if (!agreement) delete impl.deriveBits;
  return impl;
}

const _algorithms = {
  "HMAC": _hmac,
  "AES-GCM": _aes("AES-GCM", "GCM"),
  "AES-CBC": _aes("AES-CBC", "CBC"),
  "PBKDF2": _kdf("PBKDF2"),
  "HKDF": _kdf("HKDF"),
  "ECDSA": _asym("ECDSA", "EC", ["verify"], ["sign"]),
  "ECDH": _asym("ECDH", "EC", [], ["deriveKey", "deriveBits"]),
  "Ed25519": _asym("Ed25519", "OKP", ["verify"], ["sign"]),
  "NODE-ED25519": _asym("NODE-ED25519", "OKP", ["verify"], ["sign"]),
  "X25519": _asym("X25519", "OKP", [], ["deriveKey", "deriveBits"]),
  "RSASSA-PKCS1-v1_5": _asym("RSASSA-PKCS1-v1_5", "RSA", ["verify"], ["sign"]),
  "RSA-PSS": _asym("RSA-PSS", "RSA", ["verify"], ["sign"]),
  "RSA-OAEP": _asym("RSA-OAEP", "RSA", ["encrypt", "wrapKey"], ["decrypt", "unwrapKey"]),
};

// _impl normalizes alg and returns [name, dict, implementation of op].
function _impl(alg, op) {
  const [name, dict] = _normalize(alg);
  const impl = _algorithms[name];
  if (!impl || typeof impl[op] !== "function") {
    throw _cryptoError(`Unrecognized or unimplemented algorithm for ${op}: ${name}`, "NotSupportedError");
  }
  return [name, dict, impl];
}

const _FORMATS = ["raw", "spki", "pkcs8", "jwk"];
function _format(f) {
  f = String(f);
  if (!_FORMATS.includes(f)) throw new TypeError(`'${f}' is not a valid key format`);
  return f;
}

function _argc(args, n, what) {
  if (args.length < n) throw new TypeError(`${what}: ${n} arguments required, but only ${args.length} present`);
}

// ---- SubtleCrypto ----

const _subtleToken = Symbol("SubtleCrypto");

class SubtleCrypto {
  constructor(token) {
    if (token !== _subtleToken) throw new TypeError("Illegal constructor");
  }

  async digest(algorithm, data) {
    _argc(arguments, 2, "digest");
    const name = _digestName(algorithm);
    return _buf(_chost("crypto.digest", name, _bytes(data, "data")));
  }

  async importKey(format, keyData, algorithm, extractable, keyUsages) {
    _argc(arguments, 5, "importKey");
    format = _format(format);
    const usages = _usageList(keyUsages);
    const [, dict, impl] = _impl(algorithm, "importKey");
    return impl.importKey(format, keyData, dict, !!extractable, usages);
  }

  async exportKey(format, key) {
    _argc(arguments, 2, "exportKey");
    format = _format(format);
    const s = _slot(key);
    const impl = _algorithms[s.algorithm.name];
    if (!impl.exportKey) throw _cryptoError(`${s.algorithm.name} keys cannot be exported`, "NotSupportedError");
    if (!s.extractable) throw _cryptoError("The key is not extractable", "InvalidAccessError");
    return impl.exportKey(format, s);
  }

  async generateKey(algorithm, extractable, keyUsages) {
    _argc(arguments, 3, "generateKey");
    const usages = _usageList(keyUsages);
    const [, dict, impl] = _impl(algorithm, "generateKey");
    return impl.generateKey(dict, !!extractable, usages);
  }

  async sign(algorithm, key, data) {
    _argc(arguments, 3, "sign");
    const [name, dict, impl] = _impl(algorithm, "sign");
    return impl.sign(dict, _useKey(key, name, "sign"), data);
  }

  async verify(algorithm, key, signature, data) {
    _argc(arguments, 4, "verify");
    const [name, dict, impl] = _impl(algorithm, "verify");
    return impl.verify(dict, _useKey(key, name, "verify"), signature, data);
  }

  async encrypt(algorithm, key, data) {
    _argc(arguments, 3, "encrypt");
    const [name, dict, impl] = _impl(algorithm, "encrypt");
    return _buf(impl.encrypt(dict, _useKey(key, name, "encrypt"), data));
  }

  async decrypt(algorithm, key, data) {
    _argc(arguments, 3, "decrypt");
    const [name, dict, impl] = _impl(algorithm, "decrypt");
    return _buf(impl.decrypt(dict, _useKey(key, name, "decrypt"), data));
  }

  async deriveBits(algorithm, baseKey, length) {
    _argc(arguments, 2, "deriveBits");
    const [name, dict, impl] = _impl(algorithm, "deriveBits");
    const len = length === null || length === undefined ? null : Math.trunc(Number(length));
    return _buf(impl.deriveBits(dict, _useKey(baseKey, name, "deriveBits"), len));
  }

  async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
    _argc(arguments, 5, "deriveKey");
    const [name, dict, impl] = _impl(algorithm, "deriveBits");
    const [, keyDict, keyImpl] = _impl(derivedKeyType, "keyLength");
    const usages = _usageList(keyUsages);
    const s = _useKey(baseKey, name, "deriveKey");
    const length = keyImpl.keyLength(keyDict);
    const bits = impl.deriveBits(dict, s, length);
    return keyImpl.importKey("raw", new _RawB64(bits), keyDict, !!extractable, usages);
  }

  async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    _argc(arguments, 4, "wrapKey");
    format = _format(format);
    const [name, dict, impl] = _impl(wrapAlgorithm, "encrypt");
    const ws = _useKey(wrappingKey, name, "wrapKey");
    const exported = await this.exportKey(format, key);
    const bytes = format === "jwk" ? _utf8.encode(JSON.stringify(exported)) : new Uint8Array(exported);
    return _buf(impl.encrypt(dict, ws, bytes));
  }

  async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    _argc(arguments, 7, "unwrapKey");
    format = _format(format);
    const [name, dict, impl] = _impl(unwrapAlgorithm, "decrypt");
    const us = _useKey(unwrappingKey, name, "unwrapKey");
    const material = impl.decrypt(dict, us, wrappedKey);
    let keyData = new _RawB64(material);
    if (format === "jwk") {
      try { keyData = _jsonParse(_chost("utf8.decode", material, true)); } catch { throw _cryptoError("The unwrapped key is not valid JWK JSON", "DataError"); }
    }
    return this.importKey(format, keyData, unwrappedKeyAlgorithm, extractable, keyUsages);
  }

  // Cloudflare extension: constant-time comparison of two equal-length buffers.
  timingSafeEqual(a, b) {
    _argc(arguments, 2, "timingSafeEqual");
    return _chost("crypto.timingSafeEqual", _bytes(a, "a"), _bytes(b, "b"));
  }

  get [Symbol.toStringTag]() { return "SubtleCrypto"; }
}

// ---- Crypto ----

const _INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  typeof BigInt64Array === "function" ? BigInt64Array : Int8Array, typeof BigUint64Array === "function" ? BigUint64Array : Int8Array];

const _subtle = new SubtleCrypto(_subtleToken);
let _DigestStream = null;

function _makeDigestStream() {
  if (typeof WritableStream !== "function") throw new TypeError("crypto.DigestStream requires WritableStream");
  return class DigestStream extends WritableStream {
    constructor(algorithm) {
      const name = _digestName(algorithm);
      let state = "";
      let resolve, reject;
      const digest = new Promise((res, rej) => { resolve = res; reject = rej; });
      digest.catch(() => {});
      super({
        write(chunk) {
          const data = typeof chunk === "string" ? b64(_utf8.encode(chunk)) : _bytes(chunk, "DigestStream chunk");
          state = _chost("crypto.digestUpdate", name, state, data);
        },
        close() { resolve(_buf(_chost("crypto.digestFinal", name, state))); },
        abort(reason) { reject(reason); },
      });
      Object.defineProperty(this, "digest", { value: digest, enumerable: true });
    }
  };
}

const _cryptoToken = Symbol("Crypto");

class Crypto {
  constructor(token) {
    if (token !== _cryptoToken) throw new TypeError("Illegal constructor");
  }
  get subtle() { return _subtle; }

  getRandomValues(array) {
    _argc(arguments, 1, "getRandomValues");
    if (!ArrayBuffer.isView(array)) throw new TypeError("getRandomValues: argument must be an integer-typed ArrayBufferView");
    if (!_INTEGER_ARRAYS.some((C) => array instanceof C)) {
      throw _cryptoError("getRandomValues: the array must be an integer-typed array", "TypeMismatchError");
    }
    if (array.byteLength > 65536) {
      throw _cryptoError(`getRandomValues: the array's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(fromB64(_chost("crypto.random", array.byteLength)));
    return array;
  }

  randomUUID() { return _chost("crypto.randomUUID"); }

  get DigestStream() {
    if (!_DigestStream) _DigestStream = _makeDigestStream();
    return _DigestStream;
  }

  get [Symbol.toStringTag]() { return "Crypto"; }
}

defineGlobal("crypto", new Crypto(_cryptoToken));
defineGlobal("Crypto", Crypto);
defineGlobal("CryptoKey", CryptoKey);
defineGlobal("SubtleCrypto", SubtleCrypto);
}
