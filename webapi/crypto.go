package webapi

// Host operations behind the Web Crypto API (jssrc/70_crypto.js). Every
// operation is stateless: keys live in JavaScript (in a closure-private
// WeakMap, never visible to app code) and their material is passed in per
// call, base64-encoded. Asymmetric keys travel as DER: SPKI for public keys,
// PKCS #8 for private keys.
//
// Errors are returned as "<DOMException name>: <message>" so the prelude can
// reject with a DOMException of that name.

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math/big"
)

// Limits on what untrusted code may ask of the host.
const (
	// MaxCryptoInput is the largest input, in bytes, that one crypto
	// operation accepts (data to digest, sign, encrypt, ...).
	MaxCryptoInput = 64 << 20
	// MaxRandomBytes is the most crypto.getRandomValues fills in one call.
	MaxRandomBytes = 65536
	// MaxPBKDF2Iterations is the largest PBKDF2 iteration count accepted
	// (the same limit Cloudflare Workers apply).
	MaxPBKDF2Iterations = 100000
	// MaxPBKDF2Work bounds iterations × output blocks of one PBKDF2 call,
	// so that a long output cannot multiply the cost of many iterations.
	MaxPBKDF2Work = 16 * MaxPBKDF2Iterations
	// MaxRSABits is the largest RSA modulus generated or accepted.
	MaxRSABits = 8192
)

// CryptoError is an error carrying the name of the DOMException that the
// Web Crypto API should reject with (e.g. "DataError", "OperationError").
type CryptoError struct {
	Name    string
	Message string
}

// Error formats the error as "Name: message", which the prelude parses.
func (e *CryptoError) Error() string { return e.Name + ": " + e.Message }

func cerr(name, format string, a ...any) error {
	return &CryptoError{Name: name, Message: fmt.Sprintf(format, a...)}
}

// argBytes decodes a base64 argument, enforcing MaxCryptoInput.
// argBytesAt decodes the binary arguments at the given positions.
func argBytesAt(args []any, at ...int) ([][]byte, error) {
	out := make([][]byte, len(at))
	for k, i := range at {
		b, err := argBytes(args, i)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

func argBytes(args []any, i int) ([]byte, error) {
	s, err := ArgString(args, i)
	if err != nil {
		return nil, cerr("TypeError", "%v", err)
	}
	if base64.StdEncoding.DecodedLen(len(s)) > MaxCryptoInput+3 {
		return nil, cerr("QuotaExceededError", "crypto input exceeds the %d MiB limit", MaxCryptoInput>>20)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, cerr("OperationError", "malformed binary argument %d", i+1)
	}
	if len(b) > MaxCryptoInput {
		return nil, cerr("QuotaExceededError", "crypto input exceeds the %d MiB limit", MaxCryptoInput>>20)
	}
	return b, nil
}

func argStr(args []any, i int) (string, error) {
	s, err := ArgString(args, i)
	if err != nil {
		return "", cerr("TypeError", "%v", err)
	}
	return s, nil
}

func argInt(args []any, i int) (int, error) {
	n, err := ArgInt(args, i)
	if err != nil {
		return 0, cerr("TypeError", "%v", err)
	}
	return n, nil
}

func enc(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// hashByName maps a normalised Web Crypto hash name to its Go hash.
func hashByName(name string) (crypto.Hash, func() hash.Hash, error) {
	switch name {
	case "SHA-1":
		return crypto.SHA1, sha1.New, nil
	case "SHA-256":
		return crypto.SHA256, sha256.New, nil
	case "SHA-384":
		return crypto.SHA384, sha512.New384, nil
	case "SHA-512":
		return crypto.SHA512, sha512.New, nil
	}
	return 0, nil, cerr("NotSupportedError", "unrecognized hash algorithm %q", name)
}

func argHash(args []any, i int) (crypto.Hash, func() hash.Hash, error) {
	s, err := argStr(args, i)
	if err != nil {
		return 0, nil, err
	}
	return hashByName(s)
}

func curveByName(name string) (elliptic.Curve, error) {
	switch name {
	case "P-256":
		return elliptic.P256(), nil
	case "P-384":
		return elliptic.P384(), nil
	case "P-521":
		return elliptic.P521(), nil
	}
	return nil, cerr("NotSupportedError", "unrecognized or unimplemented EC curve %q", name)
}

func init() {
	register("crypto.random", func(args []any) (any, error) {
		n, err := argInt(args, 0)
		if err != nil {
			return nil, err
		}
		if n < 0 || n > MaxRandomBytes {
			return nil, cerr("QuotaExceededError", "getRandomValues() only accepts buffers of up to %d bytes", MaxRandomBytes)
		}
		b := make([]byte, n)
		rand.Read(b)
		return enc(b), nil
	})
	// randomBits returns ceil(bits/8) random bytes with the bits past the
	// requested length cleared (secret key generation).
	register("crypto.randomBits", func(args []any) (any, error) {
		bits, err := argInt(args, 0)
		if err != nil {
			return nil, err
		}
		if bits <= 0 || bits > 8*MaxRandomBytes {
			return nil, cerr("OperationError", "invalid key length %d", bits)
		}
		b := make([]byte, (bits+7)/8)
		rand.Read(b)
		if bits%8 != 0 {
			b[len(b)-1] &= 0xff << (8 - bits%8)
		}
		return enc(b), nil
	})
	register("crypto.randomUUID", func(args []any) (any, error) {
		var b [16]byte
		rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
	})
	register("crypto.timingSafeEqual", func(args []any) (any, error) {
		a, err := argBytes(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := argBytes(args, 1)
		if err != nil {
			return nil, err
		}
		if len(a) != len(b) {
			return nil, cerr("TypeError", "Input buffers must have the same byte length.")
		}
		return subtle.ConstantTimeCompare(a, b) == 1, nil
	})

	// Digests, one-shot and incremental (the hash state is marshalled and
	// handed back to JavaScript between chunks, so no state stays in Go).
	register("crypto.digest", func(args []any) (any, error) {
		_, newHash, err := argHash(args, 0)
		if err != nil {
			return nil, err
		}
		data, err := argBytes(args, 1)
		if err != nil {
			return nil, err
		}
		h := newHash()
		h.Write(data)
		return enc(h.Sum(nil)), nil
	})
	register("crypto.digestUpdate", func(args []any) (any, error) {
		h, err := digestState(args)
		if err != nil {
			return nil, err
		}
		data, err := argBytes(args, 2)
		if err != nil {
			return nil, err
		}
		h.Write(data)
		st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		return enc(st), nil
	})
	register("crypto.digestFinal", func(args []any) (any, error) {
		h, err := digestState(args)
		if err != nil {
			return nil, err
		}
		return enc(h.Sum(nil)), nil
	})

	// HMAC.
	register("crypto.hmacSign", func(args []any) (any, error) {
		mac, err := hmacOf(args)
		if err != nil {
			return nil, err
		}
		return enc(mac), nil
	})
	register("crypto.hmacVerify", func(args []any) (any, error) {
		mac, err := hmacOf(args)
		if err != nil {
			return nil, err
		}
		sig, err := argBytes(args, 3)
		if err != nil {
			return nil, err
		}
		return hmac.Equal(mac, sig), nil
	})

	// AES-GCM: (encrypt, key, iv, data, additionalData, tagLengthBytes).
	register("crypto.aesGcm", opAESGCM)
	// AES-CBC: (encrypt, key, iv, data).
	register("crypto.aesCbc", opAESCBC)

	// Key derivation.
	register("crypto.pbkdf2", func(args []any) (any, error) {
		_, newHash, err := argHash(args, 0)
		if err != nil {
			return nil, err
		}
		pw, err := argBytes(args, 1)
		if err != nil {
			return nil, err
		}
		salt, err := argBytes(args, 2)
		if err != nil {
			return nil, err
		}
		iter, err := argInt(args, 3)
		if err != nil {
			return nil, err
		}
		bits, err := argInt(args, 4)
		if err != nil {
			return nil, err
		}
		if iter <= 0 {
			return nil, cerr("OperationError", "PBKDF2 requires a positive iteration count")
		}
		if iter > MaxPBKDF2Iterations {
			return nil, cerr("NotSupportedError", "PBKDF2 iteration counts above %d are not supported (requested %d)", MaxPBKDF2Iterations, iter)
		}
		if bits < 0 || bits%8 != 0 || bits/8 > 1<<20 {
			return nil, cerr("OperationError", "invalid PBKDF2 length %d", bits)
		}
		if bits == 0 {
			return "", nil
		}
		if blocks := (bits/8 + newHash().Size() - 1) / newHash().Size(); iter*blocks > MaxPBKDF2Work {
			return nil, cerr("NotSupportedError", "PBKDF2 with %d iterations cannot derive more than %d bits with this hash", iter, MaxPBKDF2Work/iter*newHash().Size()*8)
		}
		out, err := pbkdf2.Key(newHash, string(pw), salt, iter, bits/8)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		return enc(out), nil
	})
	register("crypto.hkdf", func(args []any) (any, error) {
		_, newHash, err := argHash(args, 0)
		if err != nil {
			return nil, err
		}
		ikm, err := argBytes(args, 1)
		if err != nil {
			return nil, err
		}
		salt, err := argBytes(args, 2)
		if err != nil {
			return nil, err
		}
		info, err := argBytes(args, 3)
		if err != nil {
			return nil, err
		}
		bits, err := argInt(args, 4)
		if err != nil {
			return nil, err
		}
		if bits < 0 || bits%8 != 0 {
			return nil, cerr("OperationError", "invalid HKDF length %d", bits)
		}
		if bits == 0 {
			return "", nil
		}
		if bits/8 > 255*newHash().Size() {
			return nil, cerr("OperationError", "HKDF length %d is too large for this hash", bits)
		}
		out, err := hkdf.Key(newHash, ikm, salt, string(info), bits/8)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		return enc(out), nil
	})

	// Asymmetric keys.
	register("crypto.generatePair", opGeneratePair)
	register("crypto.importAsym", opImportAsym)
	register("crypto.exportAsym", opExportAsym)
	register("crypto.signAsym", opSignAsym)
	register("crypto.verifyAsym", opVerifyAsym)
	register("crypto.rsaOaep", opRSAOAEP)
	register("crypto.ecdh", opECDH)
}

func digestState(args []any) (hash.Hash, error) {
	_, newHash, err := argHash(args, 0)
	if err != nil {
		return nil, err
	}
	h := newHash()
	st, err := argStr(args, 1)
	if err != nil {
		return nil, err
	}
	if st != "" {
		b, err := base64.StdEncoding.DecodeString(st)
		if err != nil {
			return nil, cerr("OperationError", "malformed digest state")
		}
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
			return nil, cerr("OperationError", "malformed digest state")
		}
	}
	return h, nil
}

// hmacOf computes HMAC(hash=args[0], key=args[1], data=args[2]).
func hmacOf(args []any) ([]byte, error) {
	_, newHash, err := argHash(args, 0)
	if err != nil {
		return nil, err
	}
	bs, err := argBytesAt(args, 1, 2)
	if err != nil {
		return nil, err
	}
	key, data := bs[0], bs[1]
	m := hmac.New(newHash, key)
	m.Write(data)
	return m.Sum(nil), nil
}

func aesBlock(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, cerr("DataError", "AES key data must be 128, 192 or 256 bits")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	return b, nil
}

func opAESGCM(args []any) (any, error) {
	encrypt := ArgBool(args, 0)
	bs, err := argBytesAt(args, 1, 2, 3, 4)
	if err != nil {
		return nil, err
	}
	key, iv, data, aad := bs[0], bs[1], bs[2], bs[3]
	tagLen, err := argInt(args, 5)
	if err != nil {
		return nil, err
	}
	switch tagLen {
	case 4, 8, 12, 13, 14, 15, 16:
	default:
		return nil, cerr("OperationError", "invalid AES-GCM tag length %d bits", tagLen*8)
	}
	if len(iv) == 0 {
		return nil, cerr("OperationError", "AES-GCM IV must not be empty")
	}
	block, err := aesBlock(key)
	if err != nil {
		return nil, err
	}
	// Go's GCM fixes the tag at 16 bytes when the nonce size is not 12;
	// shorter tags are the leading bytes of the full tag, so compute the
	// full tag and truncate (or compare a prefix when decrypting).
	aead, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	if encrypt {
		out := aead.Seal(nil, iv, data, aad)
		return enc(out[:len(out)-16+tagLen]), nil
	}
	if len(data) < tagLen {
		return nil, cerr("OperationError", "The provided data is too small.")
	}
	ct, tag := data[:len(data)-tagLen], data[len(data)-tagLen:]
	if tagLen == 16 {
		pt, err := aead.Open(nil, iv, data, aad)
		if err != nil {
			return nil, cerr("OperationError", "Decryption failed. This could be due to a ciphertext authentication failure, bad padding, incorrect CryptoKey, or another algorithm-specific reason.")
		}
		return enc(pt), nil
	}
	// GCM is a stream cipher: "encrypting" the ciphertext recovers the
	// plaintext; encrypting that with the real AAD yields the full tag.
	pt := aead.Seal(nil, iv, ct, nil)[:len(ct)]
	full := aead.Seal(nil, iv, pt, aad)
	if subtle.ConstantTimeCompare(full[len(ct):len(ct)+tagLen], tag) != 1 {
		return nil, cerr("OperationError", "Decryption failed. This could be due to a ciphertext authentication failure, bad padding, incorrect CryptoKey, or another algorithm-specific reason.")
	}
	return enc(pt), nil
}

func opAESCBC(args []any) (any, error) {
	encrypt := ArgBool(args, 0)
	bs, err := argBytesAt(args, 1, 2, 3)
	if err != nil {
		return nil, err
	}
	key, iv, data := bs[0], bs[1], bs[2]
	if len(iv) != 16 {
		return nil, cerr("OperationError", "AES-CBC IV must be 16 bytes")
	}
	block, err := aesBlock(key)
	if err != nil {
		return nil, err
	}
	if encrypt {
		pad := 16 - len(data)%16
		buf := make([]byte, len(data)+pad)
		copy(buf, data)
		for i := len(data); i < len(buf); i++ {
			buf[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
		return enc(buf), nil
	}
	if len(data) == 0 || len(data)%16 != 0 {
		return nil, cerr("OperationError", "AES-CBC ciphertext length must be a positive multiple of 16")
	}
	buf := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, data)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > 16 {
		return nil, cerr("OperationError", "Decryption failed: bad padding")
	}
	for _, c := range buf[len(buf)-pad:] {
		if int(c) != pad {
			return nil, cerr("OperationError", "Decryption failed: bad padding")
		}
	}
	return enc(buf[:len(buf)-pad]), nil
}

// ---- Asymmetric keys ----

// privateKey is what every supported private key type implements.
type privateKey interface {
	Public() crypto.PublicKey
}

//
// kind is "EC" (ECDSA; param is the curve), "OKP" (Ed25519) or "RSA".

type asymKey struct {
	Type string `json:"type"` // "public" or "private"
	DER  string `json:"der"`  // SPKI or PKCS #8, base64
	// RSA only: modulus length in bits and public exponent (base64).
	ModulusLength  int    `json:"modulusLength,omitempty"`
	PublicExponent string `json:"publicExponent,omitempty"`
	// EC only.
	NamedCurve string `json:"namedCurve,omitempty"`
}

func jsonString(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	return string(b), nil
}

func describe(priv any, pub any) (*asymKey, error) {
	k := &asymKey{}
	var err error
	var der []byte
	if priv != nil {
		k.Type = "private"
		der, err = x509.MarshalPKCS8PrivateKey(priv)
	} else {
		k.Type = "public"
		der, err = x509.MarshalPKIXPublicKey(pub)
	}
	if err != nil {
		return nil, cerr("DataError", "%v", err)
	}
	k.DER = enc(der)
	if rk, ok := pub.(*rsa.PublicKey); ok {
		k.ModulusLength = rk.N.BitLen()
		k.PublicExponent = enc(big.NewInt(int64(rk.E)).Bytes())
	}
	if ek, ok := pub.(*ecdsa.PublicKey); ok {
		k.NamedCurve = ek.Curve.Params().Name
	}
	return k, nil
}

func opGeneratePair(args []any) (any, error) {
	kind, err := argStr(args, 0)
	if err != nil {
		return nil, err
	}
	var priv privateKey
	switch kind {
	case "EC":
		name, err := argStr(args, 1)
		if err != nil {
			return nil, err
		}
		c, err := curveByName(name)
		if err != nil {
			return nil, err
		}
		priv, err = ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
	case "OKP":
		if param, _ := ArgString(args, 1); param == "X25519" {
			p, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				return nil, cerr("OperationError", "%v", err)
			}
			priv = p
			break
		}
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		priv = p
	case "RSA":
		bits, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		if bits < 1024 || bits > 4096 || bits%8 != 0 {
			return nil, cerr("OperationError", "RSA modulusLength must be a multiple of 8 between 1024 and 4096")
		}
		priv, err = rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
	default:
		return nil, cerr("NotSupportedError", "unsupported key kind %q", kind)
	}
	pk, err := describe(priv, priv.Public())
	if err != nil {
		return nil, err
	}
	pub, err := describe(nil, priv.Public())
	if err != nil {
		return nil, err
	}
	return jsonString(map[string]*asymKey{"privateKey": pk, "publicKey": pub})
}

// jwkFields is the union of the JWK members used by EC, OKP and RSA keys.
type jwkFields struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	D   string `json:"d,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	P   string `json:"p,omitempty"`
	Q   string `json:"q,omitempty"`
	DP  string `json:"dp,omitempty"`
	DQ  string `json:"dq,omitempty"`
	QI  string `json:"qi,omitempty"`
}

func b64url(s, field string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, cerr("DataError", "JWK member %q is not valid base64url", field)
	}
	return b, nil
}

func b64urlEnc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func bigField(s, field string) (*big.Int, error) {
	if s == "" {
		return nil, cerr("DataError", "JWK member %q is missing", field)
	}
	b, err := b64url(s, field)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

// parseAsym parses key material of the given kind and format into a Go
// private key (priv != nil) or public key.
func parseAsym(kind, param, format string, data []byte) (priv privateKey, pub crypto.PublicKey, err error) {
	switch format {
	case "spki":
		pub, err = x509.ParsePKIXPublicKey(data)
		if err != nil {
			return nil, nil, cerr("DataError", "invalid SPKI key data: %v", err)
		}
	case "pkcs8":
		k, err := x509.ParsePKCS8PrivateKey(data)
		if err != nil {
			return nil, nil, cerr("DataError", "invalid PKCS #8 key data: %v", err)
		}
		s, ok := k.(privateKey)
		if !ok {
			return nil, nil, cerr("DataError", "unsupported PKCS #8 key type")
		}
		priv, pub = s, s.Public()
	case "raw":
		switch kind {
		case "EC":
			c, err := curveByName(param)
			if err != nil {
				return nil, nil, err
			}
			pub, err = ecdsa.ParseUncompressedPublicKey(c, data)
			if err != nil {
				return nil, nil, cerr("DataError", "invalid raw EC public key: %v", err)
			}
		case "OKP":
			if param == "X25519" {
				pub, err = ecdh.X25519().NewPublicKey(data)
				if err != nil {
					return nil, nil, cerr("DataError", "invalid raw X25519 public key: %v", err)
				}
				break
			}
			if len(data) != ed25519.PublicKeySize {
				return nil, nil, cerr("DataError", "Ed25519 raw public keys must be 32 bytes")
			}
			pub = ed25519.PublicKey(data)
		default:
			return nil, nil, cerr("NotSupportedError", "raw format is not supported for RSA keys")
		}
	case "jwk":
		var j jwkFields
		if err := json.Unmarshal(data, &j); err != nil {
			return nil, nil, cerr("DataError", "invalid JWK: %v", err)
		}
		if j.Kty != kind {
			return nil, nil, cerr("DataError", "JWK kty must be %q", kind)
		}
		priv, pub, err = parseJWK(param, &j)
		if err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, cerr("NotSupportedError", "unsupported key format %q", format)
	}
	// Check the key is of the expected kind (and curve).
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if kind != "EC" {
			return nil, nil, cerr("DataError", "key data is an EC key")
		}
		if k.Curve.Params().Name != param {
			return nil, nil, cerr("DataError", "key curve %s does not match namedCurve %s", k.Curve.Params().Name, param)
		}
	case ed25519.PublicKey:
		if kind != "OKP" || param == "X25519" {
			return nil, nil, cerr("DataError", "key data is an Ed25519 key")
		}
	case *ecdh.PublicKey:
		if kind != "OKP" || param != "X25519" || k.Curve() != ecdh.X25519() {
			return nil, nil, cerr("DataError", "key data is an X25519 key")
		}
	case *rsa.PublicKey:
		if kind != "RSA" {
			return nil, nil, cerr("DataError", "key data is an RSA key")
		}
		if k.N.BitLen() > MaxRSABits {
			return nil, nil, cerr("DataError", "RSA keys over %d bits are not supported", MaxRSABits)
		}
	default:
		return nil, nil, cerr("DataError", "unsupported key type %T", pub)
	}
	return priv, pub, nil
}

func parseJWK(param string, j *jwkFields) (privateKey, crypto.PublicKey, error) {
	switch j.Kty {
	case "EC":
		if j.Crv != param {
			return nil, nil, cerr("DataError", "JWK crv %q does not match namedCurve %q", j.Crv, param)
		}
		c, err := curveByName(param)
		if err != nil {
			return nil, nil, err
		}
		size := (c.Params().BitSize + 7) / 8
		x, err := b64url(j.X, "x")
		if err != nil {
			return nil, nil, err
		}
		y, err := b64url(j.Y, "y")
		if err != nil {
			return nil, nil, err
		}
		if len(x) != size || len(y) != size {
			return nil, nil, cerr("DataError", "JWK x and y must be %d bytes for %s", size, param)
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, point)
		if err != nil {
			return nil, nil, cerr("DataError", "invalid EC public key: %v", err)
		}
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := b64url(j.D, "d")
		if err != nil {
			return nil, nil, err
		}
		priv, err := ecdsa.ParseRawPrivateKey(c, d)
		if err != nil {
			return nil, nil, cerr("DataError", "invalid EC private key: %v", err)
		}
		if !priv.PublicKey.Equal(pub) {
			return nil, nil, cerr("DataError", "JWK d does not match x and y")
		}
		return priv, pub, nil
	case "OKP":
		if param == "" {
			param = "Ed25519"
		}
		if j.Crv != param {
			return nil, nil, cerr("DataError", "JWK crv must be %s", param)
		}
		x, err := b64url(j.X, "x")
		if err != nil {
			return nil, nil, err
		}
		if param == "X25519" {
			pub, err := ecdh.X25519().NewPublicKey(x)
			if err != nil {
				return nil, nil, cerr("DataError", "invalid X25519 public key: %v", err)
			}
			if j.D == "" {
				return nil, pub, nil
			}
			d, err := b64url(j.D, "d")
			if err != nil {
				return nil, nil, err
			}
			priv, err := ecdh.X25519().NewPrivateKey(d)
			if err != nil {
				return nil, nil, cerr("DataError", "invalid X25519 private key: %v", err)
			}
			if !priv.PublicKey().Equal(pub) {
				return nil, nil, cerr("DataError", "JWK d does not match x")
			}
			return priv, pub, nil
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, nil, cerr("DataError", "Ed25519 public keys must be 32 bytes")
		}
		pub := ed25519.PublicKey(x)
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := b64url(j.D, "d")
		if err != nil {
			return nil, nil, err
		}
		if len(d) != ed25519.SeedSize {
			return nil, nil, cerr("DataError", "Ed25519 private keys must be 32 bytes")
		}
		priv := ed25519.NewKeyFromSeed(d)
		if !pub.Equal(priv.Public()) {
			return nil, nil, cerr("DataError", "JWK d does not match x")
		}
		return priv, pub, nil
	case "RSA":
		n, err := bigField(j.N, "n")
		if err != nil {
			return nil, nil, err
		}
		e, err := bigField(j.E, "e")
		if err != nil {
			return nil, nil, err
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, nil, cerr("DataError", "unsupported RSA public exponent")
		}
		if n.BitLen() > MaxRSABits {
			return nil, nil, cerr("DataError", "RSA keys over %d bits are not supported", MaxRSABits)
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		if j.D == "" {
			return nil, pub, nil
		}
		d, err := bigField(j.D, "d")
		if err != nil {
			return nil, nil, err
		}
		p, err := bigField(j.P, "p")
		if err != nil {
			return nil, nil, err
		}
		q, err := bigField(j.Q, "q")
		if err != nil {
			return nil, nil, err
		}
		priv := &rsa.PrivateKey{PublicKey: *pub, D: d, Primes: []*big.Int{p, q}}
		if err := priv.Validate(); err != nil {
			return nil, nil, cerr("DataError", "invalid RSA private key: %v", err)
		}
		priv.Precompute()
		return priv, &priv.PublicKey, nil
	}
	return nil, nil, cerr("DataError", "unsupported JWK kty %q", j.Kty)
}

// opImportAsym: (kind, param, format, data) where data is base64, or JWK
// JSON text for format "jwk". Returns an asymKey as JSON.
func opImportAsym(args []any) (any, error) {
	kind, err := argStr(args, 0)
	if err != nil {
		return nil, err
	}
	param, _ := ArgString(args, 1)
	format, err := argStr(args, 2)
	if err != nil {
		return nil, err
	}
	var data []byte
	if format == "jwk" {
		s, err := argStr(args, 3)
		if err != nil {
			return nil, err
		}
		if len(s) > MaxCryptoInput {
			return nil, cerr("DataError", "JWK too large")
		}
		data = []byte(s)
	} else if data, err = argBytes(args, 3); err != nil {
		return nil, err
	}
	priv, pub, err := parseAsym(kind, param, format, data)
	if err != nil {
		return nil, err
	}
	var k *asymKey
	if priv != nil {
		k, err = describe(priv, pub)
	} else {
		k, err = describe(nil, pub)
	}
	if err != nil {
		return nil, err
	}
	return jsonString(k)
}

// loadAsym parses a stored key: PKCS #8 for private keys, SPKI for public.
func loadAsym(kind, param string, private bool, der []byte) (privateKey, crypto.PublicKey, error) {
	f := "spki"
	if private {
		f = "pkcs8"
	}
	return parseAsym(kind, param, f, der)
}

// opExportAsym: (kind, param, isPrivate, format, der). Returns base64, or
// JWK JSON text for format "jwk".
func opExportAsym(args []any) (any, error) {
	kind, err := argStr(args, 0)
	if err != nil {
		return nil, err
	}
	param, _ := ArgString(args, 1)
	private := ArgBool(args, 2)
	format, err := argStr(args, 3)
	if err != nil {
		return nil, err
	}
	der, err := argBytes(args, 4)
	if err != nil {
		return nil, err
	}
	priv, pub, err := loadAsym(kind, param, private, der)
	if err != nil {
		return nil, err
	}
	switch format {
	case "spki", "pkcs8":
		if (format == "pkcs8") != private {
			return nil, cerr("InvalidAccessError", "format %s does not match the key type", format)
		}
		return enc(der), nil
	case "raw":
		if private {
			return nil, cerr("InvalidAccessError", "only public keys can be exported as raw")
		}
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			b, err := k.Bytes()
			if err != nil {
				return nil, cerr("OperationError", "%v", err)
			}
			return enc(b), nil
		case ed25519.PublicKey:
			return enc(k), nil
		case *ecdh.PublicKey:
			return enc(k.Bytes()), nil
		}
		return nil, cerr("NotSupportedError", "raw format is not supported for this key")
	case "jwk":
		j := jwkFields{Kty: kind}
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			b, err := k.Bytes()
			if err != nil {
				return nil, cerr("OperationError", "%v", err)
			}
			size := (len(b) - 1) / 2
			j.Crv, j.X, j.Y = param, b64urlEnc(b[1:1+size]), b64urlEnc(b[1+size:])
			if p, ok := priv.(*ecdsa.PrivateKey); ok {
				d, err := p.Bytes()
				if err != nil {
					return nil, cerr("OperationError", "%v", err)
				}
				j.D = b64urlEnc(d)
			}
		case ed25519.PublicKey:
			j.Crv, j.X = "Ed25519", b64urlEnc(k)
			if p, ok := priv.(ed25519.PrivateKey); ok {
				j.D = b64urlEnc(p.Seed())
			}
		case *ecdh.PublicKey:
			j.Crv, j.X = "X25519", b64urlEnc(k.Bytes())
			if p, ok := priv.(*ecdh.PrivateKey); ok {
				j.D = b64urlEnc(p.Bytes())
			}
		case *rsa.PublicKey:
			j.N, j.E = b64urlEnc(k.N.Bytes()), b64urlEnc(big.NewInt(int64(k.E)).Bytes())
			if p, ok := priv.(*rsa.PrivateKey); ok {
				if len(p.Primes) != 2 {
					return nil, cerr("NotSupportedError", "multi-prime RSA keys cannot be exported as JWK")
				}
				p.Precompute()
				j.D = b64urlEnc(p.D.Bytes())
				j.P, j.Q = b64urlEnc(p.Primes[0].Bytes()), b64urlEnc(p.Primes[1].Bytes())
				j.DP, j.DQ = b64urlEnc(p.Precomputed.Dp.Bytes()), b64urlEnc(p.Precomputed.Dq.Bytes())
				j.QI = b64urlEnc(p.Precomputed.Qinv.Bytes())
			}
		}
		return jsonString(j)
	}
	return nil, cerr("NotSupportedError", "unsupported key format %q", format)
}

// signParams reads (alg, kind, param, hash, der, data, saltLength) shared by
// signAsym and verifyAsym; alg is "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5" or
// "RSA-PSS".
type signParams struct {
	alg     string
	h       crypto.Hash
	newHash func() hash.Hash
	priv    privateKey
	pub     crypto.PublicKey
	data    []byte
	salt    int
	curve   string
}

func readSignParams(args []any, private bool) (*signParams, error) {
	p := &signParams{}
	var err error
	if p.alg, err = argStr(args, 0); err != nil {
		return nil, err
	}
	p.curve, _ = ArgString(args, 1)
	if p.alg != "Ed25519" {
		if p.h, p.newHash, err = argHash(args, 2); err != nil {
			return nil, err
		}
	}
	der, err := argBytes(args, 3)
	if err != nil {
		return nil, err
	}
	if p.data, err = argBytes(args, 4); err != nil {
		return nil, err
	}
	kind := map[string]string{"ECDSA": "EC", "Ed25519": "OKP", "RSASSA-PKCS1-v1_5": "RSA", "RSA-PSS": "RSA"}[p.alg]
	if kind == "" {
		return nil, cerr("NotSupportedError", "unsupported signature algorithm %q", p.alg)
	}
	if p.priv, p.pub, err = loadAsym(kind, p.curve, private, der); err != nil {
		return nil, err
	}
	if p.alg == "RSA-PSS" {
		if p.salt, err = argInt(args, 6); err != nil {
			return nil, err
		}
		if p.salt < 0 {
			return nil, cerr("OperationError", "saltLength must not be negative")
		}
	}
	return p, nil
}

func (p *signParams) digest() []byte {
	h := p.newHash()
	h.Write(p.data)
	return h.Sum(nil)
}

// opSignAsym: (alg, curve, hash, pkcs8, data, unused, saltLength).
func opSignAsym(args []any) (any, error) {
	p, err := readSignParams(args, true)
	if err != nil {
		return nil, err
	}
	switch k := p.priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, p.digest())
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return enc(sig), nil
	case ed25519.PrivateKey:
		return enc(ed25519.Sign(k, p.data)), nil
	case *rsa.PrivateKey:
		var sig []byte
		if p.alg == "RSA-PSS" {
			sig, err = rsa.SignPSS(rand.Reader, k, p.h, p.digest(), &rsa.PSSOptions{SaltLength: p.salt, Hash: p.h})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, p.h, p.digest())
		}
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		return enc(sig), nil
	}
	return nil, cerr("InvalidAccessError", "key cannot be used for signing")
}

// opVerifyAsym: (alg, curve, hash, spki, data, signature, saltLength).
func opVerifyAsym(args []any) (any, error) {
	p, err := readSignParams(args, false)
	if err != nil {
		return nil, err
	}
	sig, err := argBytes(args, 5)
	if err != nil {
		return nil, err
	}
	switch k := p.pub.(type) {
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false, nil
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, p.digest(), r, s), nil
	case ed25519.PublicKey:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k, p.data, sig), nil
	case *rsa.PublicKey:
		if p.alg == "RSA-PSS" {
			return rsa.VerifyPSS(k, p.h, p.digest(), sig, &rsa.PSSOptions{SaltLength: p.salt, Hash: p.h}) == nil, nil
		}
		return rsa.VerifyPKCS1v15(k, p.h, p.digest(), sig) == nil, nil
	}
	return nil, cerr("InvalidAccessError", "key cannot be used for verification")
}

// opRSAOAEP: (encrypt, hash, der, data, label). Encryption takes an SPKI
// public key, decryption a PKCS #8 private key.
func opRSAOAEP(args []any) (any, error) {
	encrypt := ArgBool(args, 0)
	_, newHash, err := argHash(args, 1)
	if err != nil {
		return nil, err
	}
	bs, err := argBytesAt(args, 2, 3, 4)
	if err != nil {
		return nil, err
	}
	der, data, label := bs[0], bs[1], bs[2]
	priv, pub, err := loadAsym("RSA", "", !encrypt, der)
	if err != nil {
		return nil, err
	}
	if encrypt {
		out, err := rsa.EncryptOAEP(newHash(), rand.Reader, pub.(*rsa.PublicKey), data, label)
		if err != nil {
			return nil, cerr("OperationError", "%v", err)
		}
		return enc(out), nil
	}
	out, err := rsa.DecryptOAEP(newHash(), rand.Reader, priv.(*rsa.PrivateKey), data, label)
	if err != nil {
		return nil, cerr("OperationError", "Decryption failed")
	}
	return enc(out), nil
}

// opECDH: (kind, param, privatePKCS8, publicSPKI, bits) returns the shared
// secret of ECDH (kind "EC") or X25519 (kind "OKP"), truncated to bits
// (bits < 0: all of it).
func opECDH(args []any) (any, error) {
	kind, err := argStr(args, 0)
	if err != nil {
		return nil, err
	}
	param, _ := ArgString(args, 1)
	bs, err := argBytesAt(args, 2, 3)
	if err != nil {
		return nil, err
	}
	privDER, pubDER := bs[0], bs[1]
	priv, _, err := loadAsym(kind, param, true, privDER)
	if err != nil {
		return nil, err
	}
	_, pub, err := loadAsym(kind, param, false, pubDER)
	if err != nil {
		return nil, err
	}
	var dp *ecdh.PrivateKey
	var dq *ecdh.PublicKey
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		dp, err = k.ECDH()
	case *ecdh.PrivateKey:
		dp = k
	default:
		return nil, cerr("InvalidAccessError", "key cannot be used for key agreement")
	}
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		dq, err = k.ECDH()
	case *ecdh.PublicKey:
		dq = k
	default:
		return nil, cerr("InvalidAccessError", "key cannot be used for key agreement")
	}
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	secret, err := dp.ECDH(dq)
	if err != nil {
		return nil, cerr("OperationError", "%v", err)
	}
	bits, err := argInt(args, 4)
	if err != nil {
		return nil, err
	}
	if bits < 0 {
		return enc(secret), nil
	}
	if bits > 8*len(secret) {
		return nil, cerr("OperationError", "length %d exceeds the %d-bit shared secret", bits, 8*len(secret))
	}
	out := secret[:(bits+7)/8]
	if bits%8 != 0 {
		out[len(out)-1] &= 0xff << (8 - bits%8)
	}
	return enc(out), nil
}
