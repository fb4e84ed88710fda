package egress_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
	} {
		if got := egress.Public(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	pats := []string{"api.example.com", "*.cdn.example.net"}
	for host, want := range map[string]bool{
		"api.example.com":      true,
		"API.Example.com.":     true,
		"x.cdn.example.net":    true,
		"a.b.cdn.example.net":  true,
		"cdn.example.net":      false,
		"evil.com":             false,
		"api.example.com.evil": false,
	} {
		if got := egress.HostAllowed(host, pats); got != want {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, got, want)
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
