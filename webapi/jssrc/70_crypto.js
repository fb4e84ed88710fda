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
  return new (_global("DOMException"))(message, name);
}

// _cryptoOp calls a crypto host op, turning "Name: message" Go errors into
// DOMExceptions of that name.
function _cryptoOp(op /* , ...args */) {
  try {
    return _apply(callOp, undefined, arguments);
  } catch (e) {
    const msg = String(e && e.message !== undefined ? e.message : e);
    const m = RegExpPrototypeExec(_CRYPTO_ERRORS, msg);
    if (!m) throw _cryptoError(msg, "OperationError");
    if (m[1] === "TypeError") throw new TypeError(m[2]);
    throw _cryptoError(m[2], m[1]);
  }
}

// _bytes copies a BufferSource argument into base64 for the host.
function _bytes(x, what) {
  if (!isBufferSource(x)) throw new TypeError(`${what} must be an ArrayBuffer or ArrayBufferView`);
  const u = toBytes(x);
  const n = TypedArrayPrototypeGetByteLength(u);
  if (n > _CRYPTO_MAX_INPUT) {
    throw _cryptoError(`${what} is ${n} bytes; this runtime limits crypto inputs to 16 MiB`, "QuotaExceededError");
  }
  return b64(u);
}

function _buf(s) { return TypedArrayPrototypeGetBuffer(fromB64(s)); }

const _plusRe = _re(/\+/g);
const _slashRe = _re(/\//g);
const _padRe = _re(/=+$/);
const _dashRe = _re(/-/g);
const _underscoreRe = _re(/_/g);
const _b64urlRe = /^[A-Za-z0-9_-]*$/;

function _b64urlEncode(u8) {
  return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(b64(u8), _plusRe, "-"), _slashRe, "_"), _padRe, "");
}

function _b64urlDecode(s, field) {
  if (typeof s !== "string" || !_test(_b64urlRe, s)) throw _cryptoError(`JWK member "${field}" must be a base64url string`, "DataError");
  s = StringPrototypeReplace(StringPrototypeReplace(s, _dashRe, "+"), _underscoreRe, "/");
  while (s.length % 4) s += "=";
  try { return fromB64(s); } catch { throw _cryptoError(`JWK member "${field}" is not valid base64url`, "DataError"); }
}

// ---- Algorithm names ----

const _ALGORITHMS = ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "HMAC", "AES-GCM", "AES-CBC", "PBKDF2", "HKDF",
  "ECDSA", "ECDH", "Ed25519", "X25519", "NODE-ED25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const _algByUpper = new SafeMap();
for (let i = 0; i < _ALGORITHMS.length; i++) _algByUpper.set(StringPrototypeToUpperCase(_ALGORITHMS[i]), _ALGORITHMS[i]);
const _HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

// _normalize returns [normalized name, the algorithm dictionary].
function _normalize(alg) {
  if (typeof alg === "string") alg = { name: alg };
  if (alg === null || (typeof alg !== "object" && typeof alg !== "function")) {
    throw new TypeError("Algorithm must be a string or an object with a name member");
  }
  if (alg.name === undefined) throw new TypeError("Algorithm: name member is required");
  const name = _algByUpper.get(StringPrototypeToUpperCase(String(alg.name)));
  if (!name) throw _cryptoError(`Unrecognized or unimplemented algorithm: ${String(alg.name)}`, "NotSupportedError");
  return [name, alg];
}

function _hashName(h, required = true) {
  if (h === undefined) {
    if (!required) return undefined;
    throw new TypeError("Algorithm: hash member is required");
  }
  const _r = _normalize(h);
  const name = _r[0];
  if (!ArrayPrototypeIncludes(_HASHES, name)) throw _cryptoError(`${name} is not a hash algorithm`, "NotSupportedError");
  return name;
}

function _digestName(alg) {
  const _r = _normalize(alg);
  const name = _r[0];
  if (!ArrayPrototypeIncludes(_HASHES, name)) throw _cryptoError(`Unrecognized or unimplemented digest algorithm: ${name}`, "NotSupportedError");
  return name;
}

function _intMember(alg, member, required) {
  const v = alg[member];
  if (v === undefined) {
    if (required) throw new TypeError(`Algorithm: ${member} member is required`);
    return undefined;
  }
  const n = Number(v);
  if (!NumberIsFinite(n)) throw new TypeError(`Algorithm: ${member} must be a number`);
  return MathTrunc(n);
}

// ---- CryptoKey ----

const _USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
// A SafeWeakMap: a replaced WeakMap.prototype.get never receives _keySlots.
const _keySlots = new SafeWeakMap();
const _isKey = (k) => k !== null && typeof k === "object" && _keySlots.has(k);

// _RawB64 carries key material between internal steps (deriveKey,
// unwrapKey, generateKey) as base64, so that it never passes through
// buffers or built-ins that app code could have replaced.
const _jsonParse = JSONParse;
class _RawB64 { constructor(s) { this.s = s; } }
function _b64ByteLength(s) {
  const pad = s.length && s[s.length - 1] === "=" ? (s[s.length - 2] === "=" ? 2 : 1) : 0;
  return s.length / 4 * 3 - pad;
}
const _keyToken = Symbol("CryptoKey");

class CryptoKey {
  constructor(token, slot) {
    if (token !== _keyToken) throw new TypeError("Illegal constructor");
    _keySlots.set(this, slot);
  }
  get type() { return _slot(this).type; }
  get extractable() { return _slot(this).extractable; }
  get algorithm() { return _slot(this).algorithm; }
  get usages() { return _slot(this).usages; }
  get [SymbolToStringTag]() { return "CryptoKey"; }
}

function _slot(key) {
  const s = _isKey(key) ? _keySlots.get(key) : undefined;
  if (!s) throw new TypeError("Expected a CryptoKey");
  return s;
}

function _usageList(usages) {
  let items;
  if (ArrayIsArray(usages)) items = usages;
  else {
    if (usages === null || typeof usages !== "object" || typeof usages[SymbolIterator] !== "function") {
      throw new TypeError("keyUsages must be a sequence of strings");
    }
    items = [];
    for (const u of usages) items[items.length] = u;
  }
  const list = [];
  for (let i = 0; i < items.length; i++) {
    const s = String(items[i]);
    if (!ArrayPrototypeIncludes(_USAGES, s)) throw new TypeError(`'${s}' is not a valid key usage`);
    list[list.length] = s;
  }
  return _only(_USAGES, list);
}

// _only is the items of list that are in set, in the order of list.
function _only(list, set) {
  const out = [];
  for (let i = 0; i < list.length; i++) if (ArrayPrototypeIncludes(set, list[i])) out[out.length] = list[i];
  return out;
}

// _checkUsages throws SyntaxError when a usage is not in allowed.
function _checkUsages(usages, allowed, what) {
  for (let i = 0; i < usages.length; i++) {
    if (!ArrayPrototypeIncludes(allowed, usages[i])) throw _cryptoError(`Usage '${usages[i]}' is not valid for ${what}`, "SyntaxError");
  }
}

function _newKey(type, extractable, algorithm, usages, material, extra) {
  if ((type === "secret" || type === "private") && usages.length === 0) {
    throw _cryptoError(`Usages cannot be empty when creating a ${type} key`, "SyntaxError");
  }
  return new CryptoKey(_keyToken, ObjectAssign({
    type, extractable: !!extractable, algorithm: ObjectFreeze(algorithm), usages: ObjectFreeze(_copyArray(usages)), material,
  }, extra || {}));
}

// _useKey checks that key suits the operation and returns its slot.
function _useKey(key, name, usage) {
  if (!_isKey(key)) throw new TypeError("Expected a CryptoKey");
  const s = _slot(key);
  if (s.algorithm.name !== name) {
    throw _cryptoError(`The requested operation is not valid for the provided key (key algorithm is ${s.algorithm.name}, not ${name})`, "InvalidAccessError");
  }
  if (!ArrayPrototypeIncludes(s.usages, usage)) {
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
    if (!ArrayIsArray(jwk.key_ops)) throw _cryptoError("JWK key_ops must be an array", "DataError");
    for (let i = 0; i < usages.length; i++) {
      if (!ArrayPrototypeIncludes(jwk.key_ops, usages[i])) throw _cryptoError(`JWK key_ops does not permit '${usages[i]}'`, "DataError");
    }
  }
  if (jwk.ext === false && extractable) throw _cryptoError("JWK is not extractable (ext is false)", "DataError");
}

function _jwkOut(s, fields) {
  return ObjectAssign(fields, { key_ops: _copyArray(s.usages), ext: s.extractable });
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
    return _newKey("secret", extractable, { name: "HMAC", hash: { name: hash }, length }, usages, _cryptoOp("crypto.randomBits", length));
  },
  sign(alg, s, data) {
    return _buf(_cryptoOp("crypto.hmacSign", s.algorithm.hash.name, s.material, _bytes(data, "data")));
  },
  verify(alg, s, sig, data) {
    return _cryptoOp("crypto.hmacVerify", s.algorithm.hash.name, s.material, _bytes(data, "data"), _bytes(sig, "signature"));
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
      if (!ArrayPrototypeIncludes([128, 192, 256], length)) throw _cryptoError(`${name} key length must be 128, 192 or 256`, "OperationError");
      return length;
    },
    generateKey(alg, extractable, usages) {
      _checkUsages(usages, ["encrypt", "decrypt", "wrapKey", "unwrapKey"], `${name} keys`);
      const length = this.keyLength(alg);
      return _newKey("secret", extractable, { name, length }, usages, _cryptoOp("crypto.random", length / 8));
    },
    encrypt(alg, s, data) { return this.crypt(true, alg, s, data); },
    decrypt(alg, s, data) { return this.crypt(false, alg, s, data); },
    crypt(enc, alg, s, data) {
      if (alg.iv === undefined) throw new TypeError(`${name}: iv member is required`);
      const iv = _bytes(alg.iv, "iv");
      if (name === "AES-CBC") return _cryptoOp("crypto.aesCbc", enc, s.material, iv, _bytes(data, "data"));
      const aad = alg.additionalData === undefined ? "" : _bytes(alg.additionalData, "additionalData");
      const tagLength = _intMember(alg, "tagLength", false) ?? 128;
      if (!ArrayPrototypeIncludes([32, 64, 96, 104, 112, 120, 128], tagLength)) throw _cryptoError(`Invalid AES-GCM tagLength ${tagLength}`, "OperationError");
      return _cryptoOp("crypto.aesGcm", enc, s.material, iv, _bytes(data, "data"), aad, tagLength / 8);
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
        return _cryptoOp("crypto.pbkdf2", hash, s.material, salt, iterations, length);
      }
      if (alg.info === undefined) throw new TypeError("HKDF: info member is required");
      return _cryptoOp("crypto.hkdf", hash, s.material, salt, _bytes(alg.info, "info"), length);
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
  const use = ArrayPrototypeIncludes(publicUsages, "verify") ? "sig" : "enc";
  const agreement = ArrayPrototypeIncludes(privateUsages, "deriveBits");
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
    const algorithm = ObjectAssign({}, p.algorithm);
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
        data = JSONStringify(jwk);
      } else if (format === "spki" || format === "pkcs8" || (format === "raw" && kind !== "RSA")) {
        data = _bufferArg(keyData);
      } else throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      const info = JSONParse(_cryptoOp("crypto.importAsym", kind, p.param, format, data));
      if (format === "raw" && info.type !== "public") throw _cryptoError("raw keys must be public", "DataError");
      return makeKey(info, p, extractable, usages);
    },
    exportKey(format, s) {
      if (format !== "jwk" && format !== "spki" && format !== "pkcs8" && !(format === "raw" && kind !== "RSA")) {
        throw _cryptoError(`Unsupported key format '${format}' for ${name}`, "NotSupportedError");
      }
      const out = _cryptoOp("crypto.exportAsym", s.kind, s.param, s.type === "private", format, s.material);
      if (format !== "jwk") return _buf(out);
      const jwk = JSONParse(out);
      if (s.jwkAlg !== undefined) jwk.alg = s.jwkAlg;
      return _jwkOut(s, jwk);
    },
    generateKey(alg, extractable, usages) {
      const p = params(alg);
      _checkUsages(usages, _concat(publicUsages, privateUsages), `${name} keys`);
      let param = p.param;
      if (kind === "RSA") {
        param = _intMember(alg, "modulusLength", true);
        if (!_isUint8Array(alg.publicExponent)) throw new TypeError(`${name}: publicExponent must be a Uint8Array`);
        let e = 0;
        const pe = alg.publicExponent;
        for (let i = 0, n = TypedArrayPrototypeGetLength(pe); i < n; i++) e = e * 256 + pe[i];
        if (e !== 65537) throw _cryptoError("Only the public exponent 65537 is supported", "OperationError");
      }
      const pair = JSONParse(_cryptoOp("crypto.generatePair", kind, param));
      const publicKey = makeKey(pair.publicKey, p, true, _only(usages, publicUsages));
      const privateKey = makeKey(pair.privateKey, p, extractable, _only(usages, privateUsages));
      return { publicKey, privateKey };
    },
    sign(alg, s, data) {
      const hash = kind === "EC" ? _hashName(alg.hash) : kind === "RSA" ? s.algorithm.hash.name : "";
      const salt = name === "RSA-PSS" ? _intMember(alg, "saltLength", true) : 0;
      return _buf(_cryptoOp("crypto.signAsym", goName, s.param, hash, s.material, _bytes(data, "data"), "", salt));
    },
    verify(alg, s, sig, data) {
      const hash = kind === "EC" ? _hashName(alg.hash) : kind === "RSA" ? s.algorithm.hash.name : "";
      const salt = name === "RSA-PSS" ? _intMember(alg, "saltLength", true) : 0;
      return _cryptoOp("crypto.verifyAsym", goName, s.param, hash, s.material, _bytes(data, "data"), _bytes(sig, "signature"), salt);
    },
    encrypt(alg, s, data) { return this.oaep(true, alg, s, data); },
    decrypt(alg, s, data) { return this.oaep(false, alg, s, data); },
    oaep(enc, alg, s, data) {
      const label = alg.label === undefined ? "" : _bytes(alg.label, "label");
      return _cryptoOp("crypto.rsaOaep", enc, s.algorithm.hash.name, s.material, _bytes(data, "data"), label);
    },
    deriveBits(alg, s, length) {
      const pub = alg.public;
      if (!_isKey(pub)) throw new TypeError(`${name}: public member must be a CryptoKey`);
      const ps = _slot(pub);
      if (ps.type !== "public") throw _cryptoError(`${name}: public member must be a public key`, "InvalidAccessError");
      if (ps.algorithm.name !== name || ps.param !== s.param) {
        throw _cryptoError(`${name}: the public key's algorithm does not match the private key's`, "InvalidAccessError");
      }
      return _cryptoOp("crypto.ecdh", kind, s.param, s.material, ps.material, length === null ? -1 : length);
    },
  };
  if (!ArrayPrototypeIncludes(privateUsages, "sign")) { delete impl.sign; delete impl.verify; }
  if (!ArrayPrototypeIncludes(privateUsages, "decrypt")) { delete impl.encrypt; delete impl.decrypt; }
  if (!agreement) delete impl.deriveBits;
  return impl;
}

const _algorithms = {
  __proto__: null,
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
  const _r = _normalize(alg);
  const name = _r[0], dict = _r[1];
  const impl = _algorithms[name];
  if (!impl || typeof impl[op] !== "function") {
    throw _cryptoError(`Unrecognized or unimplemented algorithm for ${op}: ${name}`, "NotSupportedError");
  }
  return [name, dict, impl];
}

const _FORMATS = ["raw", "spki", "pkcs8", "jwk"];
function _format(f) {
  f = String(f);
  if (!ArrayPrototypeIncludes(_FORMATS, f)) throw new TypeError(`'${f}' is not a valid key format`);
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
    return _buf(_cryptoOp("crypto.digest", name, _bytes(data, "data")));
  }

  async importKey(format, keyData, algorithm, extractable, keyUsages) {
    _argc(arguments, 5, "importKey");
    format = _format(format);
    const usages = _usageList(keyUsages);
    const _r = _impl(algorithm, "importKey");
    const dict = _r[1], impl = _r[2];
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
    const _r = _impl(algorithm, "generateKey");
    const dict = _r[1], impl = _r[2];
    return impl.generateKey(dict, !!extractable, usages);
  }

  async sign(algorithm, key, data) {
    _argc(arguments, 3, "sign");
    const _r = _impl(algorithm, "sign");
    const name = _r[0], dict = _r[1], impl = _r[2];
    return impl.sign(dict, _useKey(key, name, "sign"), data);
  }

  async verify(algorithm, key, signature, data) {
    _argc(arguments, 4, "verify");
    const _r = _impl(algorithm, "verify");
    const name = _r[0], dict = _r[1], impl = _r[2];
    return impl.verify(dict, _useKey(key, name, "verify"), signature, data);
  }

  async encrypt(algorithm, key, data) {
    _argc(arguments, 3, "encrypt");
    const _r = _impl(algorithm, "encrypt");
    const name = _r[0], dict = _r[1], impl = _r[2];
    return _buf(impl.encrypt(dict, _useKey(key, name, "encrypt"), data));
  }

  async decrypt(algorithm, key, data) {
    _argc(arguments, 3, "decrypt");
    const _r = _impl(algorithm, "decrypt");
    const name = _r[0], dict = _r[1], impl = _r[2];
    return _buf(impl.decrypt(dict, _useKey(key, name, "decrypt"), data));
  }

  async deriveBits(algorithm, baseKey, length) {
    _argc(arguments, 2, "deriveBits");
    const _r = _impl(algorithm, "deriveBits");
    const name = _r[0], dict = _r[1], impl = _r[2];
    const len = length === null || length === undefined ? null : MathTrunc(Number(length));
    return _buf(impl.deriveBits(dict, _useKey(baseKey, name, "deriveBits"), len));
  }

  async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
    _argc(arguments, 5, "deriveKey");
    const _r = _impl(algorithm, "deriveBits");
    const name = _r[0], dict = _r[1], impl = _r[2];
    const _k = _impl(derivedKeyType, "keyLength");
    const keyDict = _k[1], keyImpl = _k[2];
    const usages = _usageList(keyUsages);
    const s = _useKey(baseKey, name, "deriveKey");
    const length = keyImpl.keyLength(keyDict);
    const bits = impl.deriveBits(dict, s, length);
    return keyImpl.importKey("raw", new _RawB64(bits), keyDict, !!extractable, usages);
  }

  async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    _argc(arguments, 4, "wrapKey");
    format = _format(format);
    const _r = _impl(wrapAlgorithm, "encrypt");
    const name = _r[0], dict = _r[1], impl = _r[2];
    const ws = _useKey(wrappingKey, name, "wrapKey");
    const exported = await this.exportKey(format, key);
    const bytes = format === "jwk" ? _utf8.encode(JSONStringify(exported)) : new Uint8Array(exported);
    return _buf(impl.encrypt(dict, ws, bytes));
  }

  async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    _argc(arguments, 7, "unwrapKey");
    format = _format(format);
    const _r = _impl(unwrapAlgorithm, "decrypt");
    const name = _r[0], dict = _r[1], impl = _r[2];
    const us = _useKey(unwrappingKey, name, "unwrapKey");
    const material = impl.decrypt(dict, us, wrappedKey);
    let keyData = new _RawB64(material);
    if (format === "jwk") {
      try { keyData = _jsonParse(_cryptoOp("utf8.decode", material, true)); } catch { throw _cryptoError("The unwrapped key is not valid JWK JSON", "DataError"); }
    }
    return this.importKey(format, keyData, unwrappedKeyAlgorithm, extractable, keyUsages);
  }

  // Cloudflare extension: constant-time comparison of two equal-length buffers.
  timingSafeEqual(a, b) {
    _argc(arguments, 2, "timingSafeEqual");
    return _cryptoOp("crypto.timingSafeEqual", _bytes(a, "a"), _bytes(b, "b"));
  }

  get [SymbolToStringTag]() { return "SubtleCrypto"; }
}

// ---- Crypto ----

// The names of the integer typed arrays the engine has (85_serialize.js).
const _INTEGER_ARRAYS = [];
for (let i = 0; i < _typedNames.length; i++) {
  const n = _typedNames[i];
  if (typeof _typed[i] === "function" && n !== "Float32Array" && n !== "Float64Array" && n !== "DataView") _INTEGER_ARRAYS[_INTEGER_ARRAYS.length] = n;
}

const _subtle = new SubtleCrypto(_subtleToken);
let _DigestStream = null;

function _makeDigestStream() {
  const WritableStream = _global("WritableStream");
  if (typeof WritableStream !== "function") throw new TypeError("crypto.DigestStream requires WritableStream");
  return class DigestStream extends WritableStream {
    constructor(algorithm) {
      const name = _digestName(algorithm);
      let state = "";
      let resolve, reject;
      const digest = new Promise((res, rej) => { resolve = res; reject = rej; });
      PromisePrototypeThen(digest, undefined, () => {});
      super({
        write(chunk) {
          const data = typeof chunk === "string" ? b64(_utf8.encode(chunk)) : _bytes(chunk, "DigestStream chunk");
          state = _cryptoOp("crypto.digestUpdate", name, state, data);
        },
        close() { resolve(_buf(_cryptoOp("crypto.digestFinal", name, state))); },
        abort(reason) { reject(reason); },
      });
      ObjectDefineProperty(this, "digest", { __proto__: null, value: digest, enumerable: true });
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
    if (!ArrayBufferIsView(array)) throw new TypeError("getRandomValues: argument must be an integer-typed ArrayBufferView");
    let integer = false;
    const tag = TypedArrayPrototypeGetSymbolToStringTag(array);
    for (let i = 0; i < _INTEGER_ARRAYS.length; i++) if (tag === _INTEGER_ARRAYS[i]) { integer = true; break; }
    if (!integer) {
      throw _cryptoError("getRandomValues: the array must be an integer-typed array", "TypeMismatchError");
    }
    const bytes = toBytes(array), n = TypedArrayPrototypeGetByteLength(bytes);
    if (n > 65536) {
      throw _cryptoError(`getRandomValues: the array's byte length (${n}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
    }
    TypedArrayPrototypeSet(bytes, fromB64(_cryptoOp("crypto.random", n)));
    return array;
  }

  randomUUID() { return _cryptoOp("crypto.randomUUID"); }

  get DigestStream() {
    if (!_DigestStream) _DigestStream = _makeDigestStream();
    return _DigestStream;
  }

  get [SymbolToStringTag]() { return "Crypto"; }
}

defineGlobal("crypto", new Crypto(_cryptoToken));
defineGlobal("Crypto", Crypto);
defineGlobal("CryptoKey", CryptoKey);
defineGlobal("SubtleCrypto", SubtleCrypto);
}
