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
	// AllowHosts, when not empty, lists the only host names (or "*.suffix"
	// patterns) that may be fetched.
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
	if len(c.AllowHosts) > 0 && !HostAllowed(req.URL.Hostname(), c.AllowHosts) {
		return fmt.Errorf("%w: host %q is not in this Worker's list of allowed hosts", ErrRefused, req.URL.Hostname())
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

var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"), // the unspecified address and IPv4-compatible ones (::127.0.0.1)
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
	netip.MustParsePrefix("2001::/32"),       // Teredo (embeds an IPv4 address)
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds an IPv4 address)
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// Public reports whether addr is a public unicast address that untrusted
// code may reach.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return addr.IsGlobalUnicast()
}

// HostAllowed reports whether host matches one of patterns ("example.com"
// or "*.example.com").
func HostAllowed(host string, patterns []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range patterns {
		p = strings.ToLower(p)
		if p == "*" || p == host {
			return true
		}
		if strings.HasPrefix(p, "*.") && strings.HasSuffix(host, p[1:]) {
			return true
		}
	}
	return false
}
