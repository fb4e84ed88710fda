package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// A wrong method on a known route answers 405 with the methods it takes;
// an unknown path stays 404.
func TestMethodNotAllowed(t *testing.T) {
	base := appsServer(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/api/v1/apps", "GET, HEAD"},
		{"PATCH", "/api/v1/apps/shop", "GET, HEAD, PUT, DELETE"},
		{"GET", "/api/v1/apps/shop/rollback", "POST"},
		{"DELETE", "/api/v1/usage", "GET, HEAD"},
		{"GET", "/api/v1/run", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		code, body, h := call(t, tc.method, base+tc.path, token, "", "", "")
		if code != http.StatusMethodNotAllowed || h.Get("Allow") != tc.allow || !strings.Contains(body, "method_not_allowed") {
			t.Errorf("%s %s: %d Allow=%q %s", tc.method, tc.path, code, h.Get("Allow"), body)
		}
	}
	if code, _, h := call(t, "GET", base+"/api/v1/nope", token, "", "", ""); code != 404 || h.Get("Allow") != "" {
		t.Errorf("unknown path: %d Allow=%q", code, h.Get("Allow"))
	}
}

// The Authorization scheme is case-insensitive (RFC 9110): "bearer",
// "BEARER" work like "Bearer"; other schemes and a wrong token do not.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	base := appsServer(t)
	for auth, want := range map[string]int{
		"Bearer " + token:        200,
		"bearer " + token:        200,
		"BEARER " + token:        200,
		"Bearer   " + token:      200,
		"Basic " + token:         401,
		"Bearer" + token:         401,
		"bearer wrong-token-000": 401,
		token:                    401,
	} {
		req, _ := http.NewRequest("GET", base+"/api/v1/apps", nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization: %q: %d, want %d", auth, resp.StatusCode, want)
		}
	}
}
