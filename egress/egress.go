// Package egress makes outbound HTTP requests for Workers whose policy allows
// the network, refusing addresses that would let untrusted code reach the
// platform itself: loopback, private, link-local (including cloud metadata at
// 169.254.169.254), CGNAT, multicast and unspecified addresses, checked on
// the resolved IP at connect time so DNS names that point there are refused
// too, on every redirect.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client is an outbound HTTP client with an address policy. It implements
// worker.Fetcher.
type Client struct {
	// AllowPrivate permits loopback and private addresses (for development
	// and tests; never for untrusted code on a shared host).
	AllowPrivate bool
	// AllowHosts, when not empty, lists the only hosts (and ports) that
	// may be fetched: see Allowed.
	AllowHosts []string

	hc *http.Client
}

// ErrRefused is wrapped by every policy refusal.
var ErrRefused = errors.New("outbound request refused by egress policy")

// New returns a Client with the policy in c's fields.
func New(allowPrivate bool, allowHosts []string) *Client {
	c := &Client{AllowPrivate: allowPrivate, AllowHosts: allowHosts}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: c.control}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		Proxy:                 nil,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return c.checkURL(req)
	}}
	return c
}

// control runs after DNS resolution, on the address actually dialled.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse address %q", ErrRefused, address)
	}
	if !c.AllowPrivate && !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s is a loopback, private, link-local or otherwise internal address; Workers may only reach public addresses", ErrRefused, ap.Addr())
	}
	return nil
}

func (c *Client) checkURL(req *http.Request) error {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q is not allowed; use http or https", ErrRefused, req.URL.Scheme)
	}
	if h := strings.ToLower(strings.TrimSuffix(req.URL.Hostname(), ".")); !c.AllowPrivate && (h == "localhost" || strings.HasSuffix(h, ".localhost")) {
		// Loopback by definition (RFC 6761), whatever DNS says.
		return fmt.Errorf("%w: %s is a loopback name; Workers may only reach public addresses", ErrRefused, req.URL.Hostname())
	}
	if len(c.AllowHosts) > 0 && !Allowed(req.URL, c.AllowHosts) {
		return fmt.Errorf("%w: %s is not in this Worker's list of allowed hosts (an entry without a port allows port 80 for http and 443 for https; allow another port as host:port)", ErrRefused, req.URL.Host)
	}
	return nil
}

// Fetch makes the request under the policy.
func (c *Client) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	if err := c.checkURL(req); err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	req.RequestURI = ""
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && errors.Is(err, ErrRefused) {
			return nil, refusedError(err)
		}
		return nil, fmt.Errorf("fetch %s: %w", req.URL.Redacted(), err)
	}
	return resp, nil
}

func refusedError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ErrRefused.Error()); i >= 0 {
		msg = msg[i:]
	}
	return fmt.Errorf("%s", msg)
}

// blocked lists the special-purpose ranges of the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and later) that are not
// globally reachable, plus ranges that reach the platform itself or tunnel
// to an address that cannot be checked. A handful of globally reachable
// special-purpose ranges (AS112, AMT, the PCP and TURN anycast addresses)
// are covered by wider blocks here: no web server lives in them.
var blocked = []netip.Prefix{
	// IPv4 (IPv4-mapped IPv6 addresses are unmapped before the check).
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast address
	// IPv6.
	netip.MustParsePrefix("::/96"),           // the unspecified address and IPv4-compatible ones (::127.0.0.1)
	netip.MustParsePrefix("::1/128"),         // loopback
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64: its mapping is the operator's (64:ff9b::/96 is checked in Public)
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("100:0:0:1::/64"),  // dummy prefix (RFC 9780)
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo (embeds an IPv4 address), benchmarking, ORCHID, ...
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds an IPv4 address)
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs (RFC 9602)
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("ff00::/8"),        // multicast
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// nat64 is the well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d
// reaches a.b.c.d through a translator, so it is as public as a.b.c.d.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Public reports whether addr is a public unicast address that untrusted
// code may reach. IPv4-mapped addresses (::ffff:a.b.c.d) and the
// well-known NAT64 prefix (64:ff9b::a.b.c.d) are judged by the IPv4
// address they reach; other prefixes that embed an IPv4 address (6to4,
// Teredo, IPv4-compatible, local-use NAT64) are refused whole. A NAT64
// translator on a network-specific prefix (one the operator chose) cannot
// be recognised here: an operator who runs one must keep it from
// translating to internal IPv4 addresses.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return false
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return addr.IsGlobalUnicast()
}

// An allow-list entry is a host name ("api.example.com"), a pattern of
// subdomains ("*.example.com"), "*" (any host), or an IP address, with an
// optional port: "api.example.com:8443", "[2001:db8::1]:8443",
// "api.example.com:*" (any port). An entry without a port allows the
// default port of the request's scheme only: 80 for http, 443 for https.
// Host names match without regard to case or a final dot.

// CheckPattern reports whether entry is a valid allow-list entry, with an
// error that says what is wrong.
func CheckPattern(entry string) error {
	_, _, err := splitPattern(entry)
	return err
}

// splitPattern returns entry's host (lower-case, without brackets or a
// final dot) and port ("" when the entry has none, "*" for any).
func splitPattern(entry string) (host, port string, err error) {
	if entry == "" || len(entry) > 260 || strings.ContainsAny(entry, "/@?# \t\r\n") {
		return "", "", fmt.Errorf("egress entry %q is not a host name, *.suffix pattern or IP address with an optional :port (no scheme, user or path)", entry)
	}
	host = entry
	switch {
	case strings.HasPrefix(entry, "["): // [v6] or [v6]:port
		end := strings.IndexByte(entry, ']')
		if end < 0 {
			return "", "", fmt.Errorf("egress entry %q has no closing ]", entry)
		}
		host, port = entry[1:end], entry[end+1:]
		if port != "" {
			if port[0] != ':' || len(port) == 1 {
				return "", "", fmt.Errorf("egress entry %q: only :port may follow ]", entry)
			}
			port = port[1:]
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", "", fmt.Errorf("egress entry %q: %q is not an IPv6 address", entry, host)
		}
	case strings.Count(entry, ":") == 1:
		host, port, _ = strings.Cut(entry, ":")
		if port == "" {
			return "", "", fmt.Errorf("egress entry %q: empty port", entry)
		}
	case strings.Contains(entry, ":"): // a bare IPv6 address
		if _, err := netip.ParseAddr(entry); err != nil {
			return "", "", fmt.Errorf("egress entry %q is not a host name or IP address (write an IPv6 address with a port as [addr]:port)", entry)
		}
	}
	if port != "" && port != "*" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return "", "", fmt.Errorf("egress entry %q: port %q is not 1 to 65535 (or *)", entry, port)
		}
	}
	host = strings.ToLower(host)
	if host == "" || strings.Contains(host[1:], "*") || strings.HasPrefix(host, "*") && host != "*" && !strings.HasPrefix(host, "*.") || host == "*." {
		return "", "", fmt.Errorf(`egress entry %q: the host must be a name, an address, "*", or "*." followed by a domain`, entry)
	}
	return strings.TrimSuffix(host, "."), port, nil
}

// defaultPorts are the ports an entry without a port allows, per scheme.
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// Allowed reports whether a request to u may go out under the allow-list
// entries: its host must match an entry, on a port the entry allows.
// Invalid entries allow nothing.
func Allowed(u *url.URL, entries []string) bool {
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	def := defaultPorts[strings.ToLower(u.Scheme)]
	port := u.Port()
	if port == "" {
		port = def
	}
	if port == "" || host == "" {
		return false
	}
	addr, addrErr := netip.ParseAddr(host)
	for _, e := range entries {
		h, p, err := splitPattern(e)
		if err != nil {
			continue
		}
		switch p {
		case "*":
		case "":
			if port != def {
				continue
			}
		default:
			if port != p {
				continue
			}
		}
		if h == "*" || h == host {
			return true
		}
		if strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) {
			return true
		}
		if addrErr == nil {
			if a, err := netip.ParseAddr(h); err == nil && a.WithZone("") == addr.WithZone("") {
				return true
			}
		}
	}
	return false
}
