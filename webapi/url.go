package webapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// This file is a WHATWG URL Standard parser (https://url.spec.whatwg.org/):
// the basic URL parser with state overrides (used by the URL setters), the
// host parser (domains through UTS #46, IPv4 with its number forms, IPv6,
// opaque hosts) and the serialisers. The JS URL class keeps the components
// and calls the "url.parse" and "url.set" operations.

// URLRecord is a parsed URL as the URL Standard defines it.
type URLRecord struct {
	Scheme   string
	Username string
	Password string
	// Host is nil when the URL has no host; otherwise the serialised host
	// (a domain, "[ipv6]", dotted IPv4, an opaque host, or "").
	Host *string
	// Port is nil when the URL has no port (or the scheme's default).
	Port *int
	// Path holds the segments of a hierarchical path.
	Path []string
	// Opaque is true when the path is opaque (mailto:, data:, ...); the path
	// is then OpaquePath.
	Opaque     bool
	OpaquePath string
	Query      *string
	Fragment   *string
}

type urlState int

const (
	stNone urlState = iota
	stSchemeStart
	stScheme
	stNoScheme
	stSpecialRelativeOrAuthority
	stPathOrAuthority
	stRelative
	stRelativeSlash
	stSpecialAuthoritySlashes
	stSpecialAuthorityIgnoreSlashes
	stAuthority
	stHost
	stHostname
	stPort
	stFile
	stFileSlash
	stFileHost
	stPathStart
	stPath
	stOpaquePath
	stQuery
	stFragment
)

var specialPorts = map[string]int{"ftp": 21, "file": -1, "http": 80, "https": 443, "ws": 80, "wss": 443}

func isSpecialScheme(s string) bool { _, ok := specialPorts[s]; return ok }

func defaultPort(s string) int {
	if p, ok := specialPorts[s]; ok {
		return p
	}
	return -1
}

// percent-encode sets, as predicates over a code point.
func inC0ControlSet(c rune) bool { return c < 0x20 || c > 0x7e }
func inFragmentSet(c rune) bool {
	return inC0ControlSet(c) || c == ' ' || c == '"' || c == '<' || c == '>' || c == '`'
}
func inQuerySet(c rune) bool {
	return inC0ControlSet(c) || c == ' ' || c == '"' || c == '#' || c == '<' || c == '>'
}
func inSpecialQuerySet(c rune) bool { return inQuerySet(c) || c == '\'' }
func inPathSet(c rune) bool {
	return inQuerySet(c) || c == '?' || c == '^' || c == '`' || c == '{' || c == '}'
}
func inUserinfoSet(c rune) bool {
	return inPathSet(c) || c == '/' || c == ':' || c == ';' || c == '=' || c == '@' || (c >= '[' && c <= ']') || c == '|'
}

const upperHex = "0123456789ABCDEF"

// pctEncode appends c to b, UTF-8 percent-encoded when it is in set.
func pctEncode(b *strings.Builder, c rune, set func(rune) bool) {
	if !set(c) {
		b.WriteRune(c)
		return
	}
	var buf [4]byte
	n := utf8.EncodeRune(buf[:], c)
	for _, x := range buf[:n] {
		b.WriteByte('%')
		b.WriteByte(upperHex[x>>4])
		b.WriteByte(upperHex[x&15])
	}
}

func pctEncodeString(s string, set func(rune) bool) string {
	var b strings.Builder
	for _, c := range s {
		pctEncode(&b, c, set)
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pctDecode percent-decodes s into bytes (invalid escapes stay as they are).
func pctDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

func isASCIIAlpha(c rune) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isASCIIDigit(c rune) bool { return c >= '0' && c <= '9' }
func isASCIIHex(c rune) bool   { _, ok := unhex(byte(c)); return c < 128 && ok }
func toLowerASCII(c rune) rune {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func isWindowsDriveLetter(s []rune, normalizedOnly bool) bool {
	return len(s) == 2 && isASCIIAlpha(s[0]) && (s[1] == ':' || (!normalizedOnly && s[1] == '|'))
}

// startsWithWindowsDriveLetter reports whether s starts with a drive letter
// followed by nothing or one of / \ ? #.
func startsWithWindowsDriveLetter(s []rune) bool {
	if len(s) < 2 || !isWindowsDriveLetter(s[:2], false) {
		return false
	}
	if len(s) == 2 {
		return true
	}
	switch s[2] {
	case '/', '\\', '?', '#':
		return true
	}
	return false
}

func isSingleDot(s string) bool {
	return s == "." || strings.EqualFold(s, "%2e")
}

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

func (u *URLRecord) clone() *URLRecord {
	c := *u
	c.Path = append([]string(nil), u.Path...)
	return &c
}

func (u *URLRecord) special() bool { return isSpecialScheme(u.Scheme) }

func (u *URLRecord) includesCredentials() bool { return u.Username != "" || u.Password != "" }

func (u *URLRecord) cannotHaveUserinfoOrPort() bool {
	return u.Host == nil || *u.Host == "" || u.Scheme == "file"
}

func (u *URLRecord) shortenPath() {
	if u.Scheme == "file" && len(u.Path) == 1 && isWindowsDriveLetter([]rune(u.Path[0]), true) {
		return
	}
	if len(u.Path) > 0 {
		u.Path = u.Path[:len(u.Path)-1]
	}
}

func strp(s string) *string { return &s }

func isC0OrSpace(r rune) bool { return r <= 0x20 }

// ParseURL parses input against base (which may be nil) with the WHATWG
// basic URL parser. It returns nil when the input is not a valid URL.
func ParseURL(input string, base *URLRecord) *URLRecord {
	input = strings.TrimFunc(input, isC0OrSpace)
	return basicParse(input, base, nil, stNone)
}

// basicParse is the basic URL parser. With a state override it modifies url
// in place and returns it (nil on failure, when url must be left unchanged
// by the caller, which always passes a copy).
func basicParse(input string, base *URLRecord, url *URLRecord, override urlState) *URLRecord {
	if url == nil {
		url = &URLRecord{}
	}
	if strings.ContainsAny(input, "\t\n\r") {
		input = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(input)
	}
	in := []rune(input)
	state := override
	if state == stNone {
		state = stSchemeStart
	}
	var buf []rune
	atSignSeen, insideBrackets, passwordTokenSeen := false, false, false
	const EOF = rune(-1)
	for p := 0; p <= len(in); p++ {
		c := EOF
		if p < len(in) {
			c = in[p]
		}
		remaining := func() []rune {
			if p+1 <= len(in) {
				return in[p+1:]
			}
			return nil
		}
		remStarts := func(r rune) bool { rem := remaining(); return len(rem) > 0 && rem[0] == r }
		switch state {
		case stSchemeStart:
			if isASCIIAlpha(c) {
				buf = append(buf, toLowerASCII(c))
				state = stScheme
			} else if override == stNone {
				state = stNoScheme
				p--
			} else {
				return nil
			}
		case stScheme:
			if isASCIIAlpha(c) || isASCIIDigit(c) || c == '+' || c == '-' || c == '.' {
				buf = append(buf, toLowerASCII(c))
			} else if c == ':' {
				s := string(buf)
				if override != stNone {
					if url.special() != isSpecialScheme(s) {
						return url
					}
					if (url.includesCredentials() || url.Port != nil) && s == "file" {
						return url
					}
					if url.Scheme == "file" && url.Host != nil && *url.Host == "" {
						return url
					}
				}
				url.Scheme = s
				if override != stNone {
					if url.Port != nil && *url.Port == defaultPort(s) {
						url.Port = nil
					}
					return url
				}
				buf = buf[:0]
				if s == "file" {
					state = stFile
				} else if url.special() && base != nil && base.Scheme == s {
					state = stSpecialRelativeOrAuthority
				} else if url.special() {
					state = stSpecialAuthoritySlashes
				} else if remStarts('/') {
					state = stPathOrAuthority
					p++
				} else {
					url.Opaque = true
					url.OpaquePath = ""
					state = stOpaquePath
				}
			} else if override == stNone {
				buf = buf[:0]
				state = stNoScheme
				p = -1
			} else {
				return nil
			}
		case stNoScheme:
			if base == nil || (base.Opaque && c != '#') {
				return nil
			} else if base.Opaque && c == '#' {
				url.Scheme = base.Scheme
				url.Opaque = true
				url.OpaquePath = base.OpaquePath
				url.Query = base.Query
				url.Fragment = strp("")
				state = stFragment
			} else if base.Scheme != "file" {
				state = stRelative
				p--
			} else {
				state = stFile
				p--
			}
		case stSpecialRelativeOrAuthority:
			if c == '/' && remStarts('/') {
				state = stSpecialAuthorityIgnoreSlashes
				p++
			} else {
				state = stRelative
				p--
			}
		case stPathOrAuthority:
			if c == '/' {
				state = stAuthority
			} else {
				state = stPath
				p--
			}
		case stRelative:
			url.Scheme = base.Scheme
			if c == '/' || (url.special() && c == '\\') {
				state = stRelativeSlash
			} else {
				url.Username, url.Password, url.Host, url.Port = base.Username, base.Password, base.Host, base.Port
				url.Path = append([]string(nil), base.Path...)
				url.Query = base.Query
				if c == '?' {
					url.Query = strp("")
					state = stQuery
				} else if c == '#' {
					url.Fragment = strp("")
					state = stFragment
				} else if c != EOF {
					url.Query = nil
					url.shortenPath()
					state = stPath
					p--
				}
			}
		case stRelativeSlash:
			if url.special() && (c == '/' || c == '\\') {
				state = stSpecialAuthorityIgnoreSlashes
			} else if c == '/' {
				state = stAuthority
			} else {
				url.Username, url.Password, url.Host, url.Port = base.Username, base.Password, base.Host, base.Port
				state = stPath
				p--
			}
		case stSpecialAuthoritySlashes:
			if c == '/' && remStarts('/') {
				state = stSpecialAuthorityIgnoreSlashes
				p++
			} else {
				state = stSpecialAuthorityIgnoreSlashes
				p--
			}
		case stSpecialAuthorityIgnoreSlashes:
			if c != '/' && c != '\\' {
				state = stAuthority
				p--
			}
		case stAuthority:
			if c == '@' {
				if atSignSeen {
					buf = append([]rune("%40"), buf...)
				}
				atSignSeen = true
				var ub, pb strings.Builder
				ub.WriteString(url.Username)
				pb.WriteString(url.Password)
				for _, r := range buf {
					if r == ':' && !passwordTokenSeen {
						passwordTokenSeen = true
						continue
					}
					if passwordTokenSeen {
						pctEncode(&pb, r, inUserinfoSet)
					} else {
						pctEncode(&ub, r, inUserinfoSet)
					}
				}
				url.Username, url.Password = ub.String(), pb.String()
				buf = buf[:0]
			} else if c == EOF || c == '/' || c == '?' || c == '#' || (url.special() && c == '\\') {
				if atSignSeen && len(buf) == 0 {
					return nil
				}
				p -= len(buf) + 1
				buf = buf[:0]
				state = stHost
			} else {
				buf = append(buf, c)
			}
		case stHost, stHostname:
			if override != stNone && url.Scheme == "file" {
				p--
				state = stFileHost
			} else if c == ':' && !insideBrackets {
				if len(buf) == 0 {
					return nil
				}
				if override == stHostname {
					return nil
				}
				h, ok := parseHost(string(buf), !url.special())
				if !ok {
					return nil
				}
				url.Host = &h
				buf = buf[:0]
				state = stPort
			} else if c == EOF || c == '/' || c == '?' || c == '#' || (url.special() && c == '\\') {
				p--
				if url.special() && len(buf) == 0 {
					return nil
				} else if override != stNone && len(buf) == 0 && (url.includesCredentials() || url.Port != nil) {
					return nil
				}
				h, ok := parseHost(string(buf), !url.special())
				if !ok {
					return nil
				}
				url.Host = &h
				buf = buf[:0]
				state = stPathStart
				if override != stNone {
					return url
				}
			} else {
				if c == '[' {
					insideBrackets = true
				}
				if c == ']' {
					insideBrackets = false
				}
				buf = append(buf, c)
			}
		case stPort:
			if isASCIIDigit(c) {
				buf = append(buf, c)
			} else if c == EOF || c == '/' || c == '?' || c == '#' || (url.special() && c == '\\') || override != stNone {
				if len(buf) != 0 {
					port := 0
					for _, d := range buf {
						port = port*10 + int(d-'0')
						if port > 65535 {
							return nil
						}
					}
					if port == defaultPort(url.Scheme) {
						url.Port = nil
					} else {
						url.Port = &port
					}
					buf = buf[:0]
				}
				if override != stNone {
					return url
				}
				state = stPathStart
				p--
			} else {
				return nil
			}
		case stFile:
			url.Scheme = "file"
			url.Host = strp("")
			if c == '/' || c == '\\' {
				state = stFileSlash
			} else if base != nil && base.Scheme == "file" {
				url.Host = base.Host
				url.Path = append([]string(nil), base.Path...)
				url.Query = base.Query
				if c == '?' {
					url.Query = strp("")
					state = stQuery
				} else if c == '#' {
					url.Fragment = strp("")
					state = stFragment
				} else if c != EOF {
					url.Query = nil
					if !startsWithWindowsDriveLetter(in[p:]) {
						url.shortenPath()
					} else {
						url.Path = nil
					}
					state = stPath
					p--
				}
			} else {
				state = stPath
				p--
			}
		case stFileSlash:
			if c == '/' || c == '\\' {
				state = stFileHost
			} else {
				if base != nil && base.Scheme == "file" {
					url.Host = base.Host
					if !startsWithWindowsDriveLetter(in[min(p, len(in)):]) && len(base.Path) > 0 && isWindowsDriveLetter([]rune(base.Path[0]), true) {
						url.Path = append(url.Path, base.Path[0])
					}
				}
				state = stPath
				p--
			}
		case stFileHost:
			if c == EOF || c == '/' || c == '\\' || c == '?' || c == '#' {
				p--
				if override == stNone && isWindowsDriveLetter(buf, false) {
					state = stPath
				} else if len(buf) == 0 {
					url.Host = strp("")
					if override != stNone {
						return url
					}
					state = stPathStart
				} else {
					h, ok := parseHost(string(buf), false)
					if !ok {
						return nil
					}
					if h == "localhost" {
						h = ""
					}
					url.Host = &h
					if override != stNone {
						return url
					}
					buf = buf[:0]
					state = stPathStart
				}
			} else {
				buf = append(buf, c)
			}
		case stPathStart:
			if url.special() {
				state = stPath
				if c != '/' && c != '\\' {
					p--
				}
			} else if override == stNone && c == '?' {
				url.Query = strp("")
				state = stQuery
			} else if override == stNone && c == '#' {
				url.Fragment = strp("")
				state = stFragment
			} else if c != EOF {
				state = stPath
				if c != '/' {
					p--
				}
			} else if override != stNone && url.Host == nil {
				url.Path = append(url.Path, "")
			}
		case stPath:
			slash := c == '/' || (url.special() && c == '\\')
			if c == EOF || slash || (override == stNone && (c == '?' || c == '#')) {
				seg := string(buf)
				if isDoubleDot(seg) {
					url.shortenPath()
					if !slash {
						url.Path = append(url.Path, "")
					}
				} else if isSingleDot(seg) && !slash {
					url.Path = append(url.Path, "")
				} else if !isSingleDot(seg) {
					if url.Scheme == "file" && len(url.Path) == 0 && isWindowsDriveLetter(buf, false) {
						seg = string(buf[0]) + ":"
					}
					url.Path = append(url.Path, seg)
				}
				buf = buf[:0]
				if c == '?' {
					url.Query = strp("")
					state = stQuery
				}
				if c == '#' {
					url.Fragment = strp("")
					state = stFragment
				}
			} else {
				var b strings.Builder
				pctEncode(&b, c, inPathSet)
				buf = append(buf, []rune(b.String())...)
			}
		case stOpaquePath:
			if c == '?' {
				url.Query = strp("")
				state = stQuery
			} else if c == '#' {
				url.Fragment = strp("")
				state = stFragment
			} else if c == ' ' {
				if remStarts('?') || remStarts('#') {
					url.OpaquePath += "%20"
				} else {
					url.OpaquePath += " "
				}
			} else if c != EOF {
				var b strings.Builder
				pctEncode(&b, c, inC0ControlSet)
				url.OpaquePath += b.String()
			}
		case stQuery:
			if (override == stNone && c == '#') || c == EOF {
				set := inQuerySet
				if url.special() {
					set = inSpecialQuerySet
				}
				q := ""
				if url.Query != nil {
					q = *url.Query
				}
				q += pctEncodeString(string(buf), set)
				url.Query = &q
				buf = buf[:0]
				if c == '#' {
					url.Fragment = strp("")
					state = stFragment
				}
			} else if c != EOF {
				buf = append(buf, c)
			}
		case stFragment:
			if c != EOF {
				var b strings.Builder
				if url.Fragment != nil {
					b.WriteString(*url.Fragment)
				}
				pctEncode(&b, c, inFragmentSet)
				url.Fragment = strp(b.String())
			}
		}
	}
	return url
}

// ---- hosts ----

const forbiddenHost = "\x00\t\n\r #/:<>?@[\\]^|"

func hasForbiddenDomainCodePoint(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x1f || c == '%' || c == 0x7f || strings.IndexByte(forbiddenHost, c) >= 0 {
			return true
		}
	}
	return false
}

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false),
	idna.StrictDomainName(false), idna.CheckHyphens(false), idna.VerifyDNSLength(false))

// parseHost is the host parser; it returns the serialised host.
func parseHost(input string, notSpecial bool) (string, bool) {
	if strings.HasPrefix(input, "[") {
		if !strings.HasSuffix(input, "]") || len(input) < 2 {
			return "", false
		}
		a, ok := parseIPv6(input[1 : len(input)-1])
		if !ok {
			return "", false
		}
		return "[" + serializeIPv6(a) + "]", true
	}
	if notSpecial {
		if strings.ContainsAny(input, forbiddenHost) {
			return "", false
		}
		return pctEncodeString(input, inC0ControlSet), true
	}
	domain := string(pctDecode(input))
	if !utf8.ValidString(domain) {
		domain, _ = decodeUTF8(pctDecode(input), false)
	}
	ascii, ok := domainToASCII(domain)
	if !ok || ascii == "" {
		return "", false
	}
	if hasForbiddenDomainCodePoint(ascii) {
		return "", false
	}
	if endsInNumber(ascii) {
		v, ok := parseIPv4(ascii)
		if !ok {
			return "", false
		}
		return serializeIPv4(v), true
	}
	return ascii, true
}

func domainToASCII(d string) (string, bool) {
	simple := true
	for i := 0; i < len(d); i++ {
		if d[i] >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		lower := strings.ToLower(d)
		for _, label := range strings.Split(lower, ".") {
			if strings.HasPrefix(label, "xn--") {
				simple = false
				break
			}
		}
		if simple {
			return lower, true
		}
	}
	s, err := idnaProfile.ToASCII(d)
	if err != nil {
		return "", false
	}
	return s, true
}

func endsInNumber(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number parses one IPv4 part in decimal, octal (leading 0) or hex
// (0x); values beyond 2^32 saturate, which later fails the range checks.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s, radix = s[2:], 16
	} else if len(s) >= 2 && s[0] == '0' {
		s, radix = s[1:], 8
	}
	if s == "" {
		return 0, true
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d, ok := unhex(s[i])
		if !ok || uint64(d) >= radix {
			return 0, false
		}
		if n < 1<<40 {
			n = n*radix + uint64(d)
		}
	}
	return n, true
}

func parseIPv4(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return 0, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return 0, false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return 0, false
		}
	}
	last := nums[len(nums)-1]
	if last >= uint64(1)<<(8*(5-len(nums))) {
		return 0, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return uint32(v), true
}

func serializeIPv4(v uint32) string {
	return strconv.Itoa(int(v>>24)) + "." + strconv.Itoa(int(v>>16&255)) + "." + strconv.Itoa(int(v>>8&255)) + "." + strconv.Itoa(int(v&255))
}

func parseIPv6(s string) ([8]uint16, bool) {
	var a [8]uint16
	in := []rune(s)
	n := len(in)
	piece, compress := 0, -1
	p := 0
	at := func(i int) rune {
		if i < n {
			return in[i]
		}
		return -1
	}
	if at(0) == ':' {
		if at(1) != ':' {
			return a, false
		}
		p += 2
		piece++
		compress = piece
	}
	for p < n {
		if piece == 8 {
			return a, false
		}
		if at(p) == ':' {
			if compress != -1 {
				return a, false
			}
			p++
			piece++
			compress = piece
			continue
		}
		value, length := 0, 0
		for length < 4 && p < n && isASCIIHex(at(p)) {
			d, _ := unhex(byte(at(p)))
			value = value*16 + int(d)
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return a, false
			}
			p -= length
			if piece > 6 {
				return a, false
			}
			numbersSeen := 0
			for p < n {
				ipv4Piece := -1
				if numbersSeen > 0 {
					if at(p) == '.' && numbersSeen < 4 {
						p++
					} else {
						return a, false
					}
				}
				if !isASCIIDigit(at(p)) {
					return a, false
				}
				for isASCIIDigit(at(p)) {
					num := int(at(p) - '0')
					if ipv4Piece == -1 {
						ipv4Piece = num
					} else if ipv4Piece == 0 {
						return a, false
					} else {
						ipv4Piece = ipv4Piece*10 + num
					}
					if ipv4Piece > 255 {
						return a, false
					}
					p++
				}
				a[piece] = a[piece]*0x100 + uint16(ipv4Piece)
				numbersSeen++
				if numbersSeen == 2 || numbersSeen == 4 {
					piece++
				}
			}
			if numbersSeen != 4 {
				return a, false
			}
			break
		} else if at(p) == ':' {
			p++
			if p >= n {
				return a, false
			}
		} else if p < n {
			return a, false
		}
		a[piece] = uint16(value)
		piece++
	}
	if compress != -1 {
		swaps := piece - compress
		piece = 7
		for piece != 0 && swaps > 0 {
			a[piece], a[compress+swaps-1] = a[compress+swaps-1], a[piece]
			piece--
			swaps--
		}
	} else if piece != 8 {
		return a, false
	}
	return a, true
}

func serializeIPv6(a [8]uint16) string {
	// Find the first longest run of two or more zero pieces.
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if a[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && a[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	var b strings.Builder
	ignore0 := false
	for i := 0; i < 8; i++ {
		if ignore0 && a[i] == 0 {
			continue
		}
		ignore0 = false
		if best == i {
			if i == 0 {
				b.WriteString("::")
			} else {
				b.WriteString(":")
			}
			ignore0 = true
			continue
		}
		b.WriteString(strconv.FormatUint(uint64(a[i]), 16))
		if i != 7 {
			b.WriteByte(':')
		}
	}
	return b.String()
}

// ---- serialisation ----

// PathString is the URL path serialiser.
func (u *URLRecord) PathString() string {
	if u.Opaque {
		return u.OpaquePath
	}
	var b strings.Builder
	for _, s := range u.Path {
		b.WriteByte('/')
		b.WriteString(s)
	}
	return b.String()
}

// Href is the URL serialiser.
func (u *URLRecord) Href() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if u.Host != nil {
		b.WriteString("//")
		if u.includesCredentials() {
			b.WriteString(u.Username)
			if u.Password != "" {
				b.WriteByte(':')
				b.WriteString(u.Password)
			}
			b.WriteByte('@')
		}
		b.WriteString(*u.Host)
		if u.Port != nil {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(*u.Port))
		}
	} else if !u.Opaque && len(u.Path) > 1 && u.Path[0] == "" {
		b.WriteString("/.")
	}
	b.WriteString(u.PathString())
	if u.Query != nil {
		b.WriteByte('?')
		b.WriteString(*u.Query)
	}
	if u.Fragment != nil {
		b.WriteByte('#')
		b.WriteString(*u.Fragment)
	}
	return b.String()
}

// Origin is the serialised origin ("null" for opaque origins).
func (u *URLRecord) Origin() string {
	switch u.Scheme {
	case "blob":
		inner := ParseURL(u.PathString(), nil)
		if inner != nil && (inner.Scheme == "http" || inner.Scheme == "https") {
			return inner.Origin()
		}
		return "null"
	case "ftp", "http", "https", "ws", "wss":
		s := u.Scheme + "://" + *u.Host
		if u.Port != nil {
			s += ":" + strconv.Itoa(*u.Port)
		}
		return s
	}
	return "null"
}

// Components returns the URL's getter values, keyed as the URL class names them.
func (u *URLRecord) Components() map[string]string {
	m := map[string]string{
		"href":     u.Href(),
		"origin":   u.Origin(),
		"protocol": u.Scheme + ":",
		"username": u.Username,
		"password": u.Password,
		"host":     "",
		"hostname": "",
		"port":     "",
		"pathname": u.PathString(),
		"search":   "",
		"hash":     "",
	}
	if u.Host != nil {
		m["hostname"] = *u.Host
		m["host"] = *u.Host
	}
	if u.Port != nil {
		m["port"] = strconv.Itoa(*u.Port)
		m["host"] += ":" + m["port"]
	}
	if u.Query != nil && *u.Query != "" {
		m["search"] = "?" + *u.Query
	}
	if u.Fragment != nil && *u.Fragment != "" {
		m["hash"] = "#" + *u.Fragment
	}
	return m
}

// SetComponent runs the URL setter named prop ("href", "protocol",
// "username", "password", "host", "hostname", "port", "pathname", "search",
// "hash", or "query", which sets the query verbatim as URLSearchParams does)
// and returns the new URL. ok is false when an href setter fails to parse.
func (u *URLRecord) SetComponent(prop, v string) (out *URLRecord, ok bool) {
	c := u.clone()
	try := func(input string, st urlState) *URLRecord {
		if r := basicParse(input, nil, c, st); r != nil {
			return r
		}
		return u
	}
	switch prop {
	case "href":
		r := ParseURL(v, nil)
		if r == nil {
			return u, false
		}
		return r, true
	case "protocol":
		return try(v+":", stSchemeStart), true
	case "username", "password":
		if u.cannotHaveUserinfoOrPort() {
			return u, true
		}
		if prop == "username" {
			c.Username = pctEncodeString(v, inUserinfoSet)
		} else {
			c.Password = pctEncodeString(v, inUserinfoSet)
		}
		return c, true
	case "host", "hostname":
		if u.Opaque {
			return u, true
		}
		st := stHost
		if prop == "hostname" {
			st = stHostname
		}
		return try(v, st), true
	case "port":
		if u.cannotHaveUserinfoOrPort() {
			return u, true
		}
		if v == "" {
			c.Port = nil
			return c, true
		}
		return try(v, stPort), true
	case "pathname":
		if u.Opaque {
			return u, true
		}
		c.Path = nil
		return try(v, stPathStart), true
	case "search":
		if v == "" {
			c.Query = nil
			return c, true
		}
		v = strings.TrimPrefix(v, "?")
		c.Query = strp("")
		return try(v, stQuery), true
	case "hash":
		if v == "" {
			c.Fragment = nil
			return c, true
		}
		v = strings.TrimPrefix(v, "#")
		c.Fragment = strp("")
		return try(v, stFragment), true
	case "query":
		// URLSearchParams' serialisation needs no encoding; anything else
		// (an app can replace URLSearchParams.prototype.toString) is
		// percent-encoded so the URL still parses back to itself.
		if v == "" {
			c.Query = nil
		} else if u.special() {
			c.Query = strp(pctEncodeString(v, inSpecialQuerySet))
		} else {
			c.Query = strp(pctEncodeString(v, inQuerySet))
		}
		return c, true
	}
	return u, true
}

func componentsJSON(u *URLRecord) string {
	b, _ := json.Marshal(u.Components())
	return string(b)
}

func init() {
	// url.parse(input, base|null) -> JSON components, or null when invalid.
	register("url.parse", func(args []any) (any, error) {
		s, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		var base *URLRecord
		if len(args) > 1 {
			if b, ok := args[1].(string); ok {
				if base = ParseURL(b, nil); base == nil {
					return nil, nil
				}
			}
		}
		u := ParseURL(s, base)
		if u == nil {
			return nil, nil
		}
		return componentsJSON(u), nil
	})
	// url.set(href, prop, value) -> JSON components, or null when an href
	// setter's value is not a valid URL.
	register("url.set", func(args []any) (any, error) {
		href, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		prop, err := ArgString(args, 1)
		if err != nil {
			return nil, err
		}
		v, err := ArgString(args, 2)
		if err != nil {
			return nil, err
		}
		u := ParseURL(href, nil)
		if u == nil {
			return nil, nil
		}
		r, ok := u.SetComponent(prop, v)
		if !ok {
			return nil, nil
		}
		return componentsJSON(r), nil
	})
}
