package egress_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/warrenhq/warren/egress"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},      // CGNAT
		{"0.0.0.0", false},
		{"224.0.0.1", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fd00::1", false},
		{"::ffff:127.0.0.1", false}, // v4-mapped loopback
		{"::ffff:10.1.1.1", false},
		{"64:ff9b::a00:1", false},  // NAT64 of 10.0.0.1
		{"fd00:ec2::254", false},   // AWS metadata over IPv6
		{"::127.0.0.1", false},     // IPv4-compatible loopback
		{"::a00:1", false},         // IPv4-compatible 10.0.0.1
		{"2002:7f00:1::", false},   // 6to4 of 127.0.0.1
		{"2001:0:7f00:1::", false}, // Teredo
		// Special-purpose ranges (IANA registries) that are not public.
		{"fec0::1", false},          // deprecated site-local
		{"100::1", false},           // discard-only
		{"100:0:0:1::1", false},     // dummy prefix
		{"2001:2::1", false},        // benchmarking, in 2001::/23
		{"2001:10::1", false},       // ORCHID, in 2001::/23
		{"2001:db8::1", false},      // documentation
		{"3fff::1", false},          // documentation
		{"5f00::1", false},          // SRv6 SIDs
		{"192.0.0.170", false},      // NAT64 discovery
		{"192.0.2.1", false},        // TEST-NET-1
		{"198.51.100.1", false},     // TEST-NET-2
		{"203.0.113.1", false},      // TEST-NET-3
		{"198.19.0.1", false},       // benchmarking
		{"192.88.99.1", false},      // 6to4 relay anycast
		{"255.255.255.255", false},  // broadcast
		{"64:ff9b:1::a00:1", false}, // local-use NAT64
		{"::ffff:0:a00:1", false},   // IPv4-translated
		{"::ffff:169.254.169.254", false},
		{"fd00::1%eth0", false}, // a zone does not hide a private address
		{"fe80::1%eth0", false},
		// NAT64 of a public IPv4 address reaches that address; of an
		// internal one, an internal one.
		{"64:ff9b::808:808", true},    // 8.8.8.8
		{"64:ff9b::7f00:1", false},    // 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // 169.254.169.254
		{"64:ff9b::c0a8:101", false},  // 192.168.1.1
		{"::ffff:8.8.8.8", true},
		{"2a00:1450:4001:82b::200e", true},
	} {
		if got := egress.Public(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	entries := []string{"api.example.com", "*.cdn.example.net", "db.example.com:6380", "any.example.org:*", "[2001:db8::1]:8443", "2001:db8::2", "192.0.2.7"}
	for raw, want := range map[string]bool{
		"https://api.example.com/x":     true,
		"http://api.example.com/x":      true,
		"https://API.Example.com./":     true,
		"https://api.example.com:443/":  true,
		"http://api.example.com:80/":    true,
		"https://api.example.com:6379/": false, // the port of an entry without one is the scheme's
		"http://api.example.com:443/":   false,
		"https://api.example.com:80/":   false,
		"https://api.example.com:8080/": false,
		"https://x.cdn.example.net/":    true,
		"https://a.b.cdn.example.net/":  true,
		"https://x.cdn.example.net:22/": false,
		"https://cdn.example.net/":      false,
		"https://evil.com/":             false,
		"https://api.example.com.evil/": false,
		"http://db.example.com:6380/":   true,
		"https://db.example.com:6380/":  true,
		"https://db.example.com/":       false, // an entry with a port allows that port only
		"http://db.example.com:6379/":   false,
		"https://any.example.org:1234/": true,
		"https://any.example.org/":      true,
		"https://[2001:db8::1]:8443/":   true,
		"https://[2001:db8::1]/":        false,
		"https://[2001:db8::2]/":        true,
		"https://[2001:db8:0::2]:443/":  true,
		"http://192.0.2.7/":             true,
		"http://192.0.2.7:8080/":        false,
		"ftp://api.example.com/":        false, // no default port
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := egress.Allowed(u, entries); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", raw, got, want)
		}
	}
	u, _ := url.Parse("https://anything.example:9999/")
	if !egress.Allowed(u, []string{"*:*"}) || egress.Allowed(u, []string{"*"}) {
		t.Errorf("* allows the default ports of any host, *:* every port")
	}
}

func TestCheckPattern(t *testing.T) {
	for _, ok := range []string{"api.example.com", "*.example.com", "*", "a.com:8080", "a.com:*", "*:443", "[::1]:80", "[2001:db8::1]", "2001:db8::1", "10.0.0.1:99", "Example.COM."} {
		if err := egress.CheckPattern(ok); err != nil {
			t.Errorf("CheckPattern(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://a.com", "a.com/x", "u@a.com", "a.com:", "a.com:0", "a.com:65536", "a.com:08", "a.com:+80", "a.com:x", "[::1", "[::1]x", "[::1]:", "[a.com]:80", "[10.0.0.1]", "a*.com", "x.*.com", "*.", "*a.com", "2001:db8::zz", "a b"} {
		if err := egress.CheckPattern(bad); err == nil {
			t.Errorf("CheckPattern(%q) = nil, want an error", bad)
		}
	}
}

// A real server on loopback: refused by default (by IP and by DNS name),
// reachable only when private addresses are allowed.
func TestLoopbackRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	c := egress.New(false, nil)
	for _, u := range []string{srv.URL, "http://localhost" + port + "/"} {
		req, _ := http.NewRequest("GET", u, nil)
		_, err := c.Fetch(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v, want a refusal", u, err)
		}
	}
	open := egress.New(true, nil)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := open.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secret" {
		t.Fatalf("got %q", b)
	}
}

// A redirect cannot be used to reach an address the policy refuses.
func TestRedirectChecked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jump" {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := egress.New(true, nil) // loopback allowed so the first hop connects
	req, _ := http.NewRequest("GET", srv.URL+"/jump", nil)
	_, err := c.Fetch(context.Background(), req)
	if err == nil || !errors.Is(err, egress.ErrRefused) && !strings.Contains(err.Error(), "refused") {
		t.Fatalf("redirect to file: err = %v", err)
	}
}

func TestSchemesAndHosts(t *testing.T) {
	c := egress.New(false, []string{"example.com"})
	for _, u := range []string{"ftp://example.com/", "https://other.example/"} {
		req, _ := http.NewRequest("GET", u, nil)
		if _, err := c.Fetch(context.Background(), req); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v", u, err)
		}
	}
}

// An allowed host is allowed on its port only: an app allowed 127.0.0.1
// cannot reach a service on another port of it (the old check ignored the
// port).
func TestAllowListPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "redis-ish") }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, err := egress.New(true, []string{"127.0.0.1"}).Fetch(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "not in this Worker's list of allowed hosts") || !strings.Contains(err.Error(), "host:port") {
		t.Fatalf("other port: err = %v, want a refusal", err)
	}
	req, _ = http.NewRequest("GET", srv.URL, nil)
	resp, err := egress.New(true, []string{"127.0.0.1:" + port}).Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
