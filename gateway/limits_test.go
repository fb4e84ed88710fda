package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// GET and PUT /api/v1/apps/{id}/limits read and change an app's quotas and
// egress without a deploy: what a PUT gives is set, the rest kept, and the
// change applies to the next request; a later deploy keeps it.
func TestLimitsAPI(t *testing.T) {
	base := appsServer(t)
	const app = `export default { fetch(req) {
  const end = Date.now() + Number(new URL(req.url).searchParams.get("spin") || 0);
  while (Date.now() < end) {}
  return new Response("done");
} }`
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/lim", token, "", "application/json", `{"mainModule":"a.js","modules":{"a.js":`+jsonString(app)+`},"limits":{"memoryMB":32},"egress":["api.example.com"]}`); code != 201 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	type limits struct {
		App                         string
		Limits, Overrides, Defaults map[string]int64
		Egress                      []string
	}
	read := func(code int, body string, _ http.Header) limits {
		t.Helper()
		var l limits
		if code != 200 || json.Unmarshal([]byte(body), &l) != nil {
			t.Fatalf("limits: %d %s", code, body)
		}
		return l
	}
	l := read(call(t, "GET", base+"/api/v1/apps/lim/limits", token, "", "", ""))
	if l.App != "lim" || l.Overrides["memoryMB"] != 32 || l.Limits["memoryMB"] != 32 || len(l.Overrides) != 1 || strings.Join(l.Egress, ",") != "api.example.com" {
		t.Fatalf("GET: %+v", l)
	}
	if code, body, _ := call(t, "GET", base+"/apps/lim/?spin=60", "", "", "", ""); code != 200 || body != "done" {
		t.Fatalf("before: %d %s", code, body)
	}
	// Set two quotas; memoryMB and egress are kept.
	l = read(call(t, "PUT", base+"/api/v1/apps/lim/limits", token, "", "application/json", `{"limits": {"cpuMs": 20, "requestsPerMinute": 3}}`))
	if l.Overrides["memoryMB"] != 32 || l.Overrides["cpuMs"] != 20 || l.Overrides["requestsPerMinute"] != 3 || strings.Join(l.Egress, ",") != "api.example.com" {
		t.Fatalf("PUT: %+v", l)
	}
	// The new CPU quota applies to the next request (the code restarted
	// under it), and so does the rate.
	if code, body, _ := call(t, "GET", base+"/apps/lim/?spin=300", "", "", "", ""); code != 503 || !strings.Contains(body, "CPU time") {
		t.Fatalf("over the new cpuMs: %d %s", code, body)
	}
	call(t, "GET", base+"/apps/lim/", "", "", "", "")
	call(t, "GET", base+"/apps/lim/", "", "", "", "")
	if code, body, _ := call(t, "GET", base+"/apps/lim/", "", "", "", ""); code != 429 {
		t.Fatalf("over the new requestsPerMinute: %d %s", code, body)
	}
	// Egress alone; 0 takes a quota back to the default.
	l = read(call(t, "PUT", base+"/api/v1/apps/lim/limits", token, "", "", `{"egress": [], "limits": {"requestsPerMinute": 0}}`))
	if len(l.Egress) != 0 || l.Overrides["requestsPerMinute"] != 0 || l.Overrides["cpuMs"] != 20 {
		t.Fatalf("PUT egress: %+v", l)
	}
	// A deploy keeps them.
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/lim", token, "", "application/json", `{"mainModule":"a.js","modules":{"a.js":`+jsonString(app)+`}}`); code != 200 {
		t.Fatalf("redeploy: %d %s", code, body)
	}
	if l2 := read(call(t, "GET", base+"/api/v1/apps/lim/limits", token, "", "", "")); l2.Overrides["cpuMs"] != 20 || l2.Overrides["memoryMB"] != 32 {
		t.Fatalf("after a redeploy: %+v", l2)
	}
	// Refusals change nothing.
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"PUT", "/api/v1/apps/lim/limits", `{"limits": {"memoryMB": 1}}`, 400, "limits.memoryMB = 1 is not allowed"},
		{"PUT", "/api/v1/apps/lim/limits", `{"limits": {"cpu": 5}}`, 400, "unknown field"},
		{"PUT", "/api/v1/apps/lim/limits", `{"egress": ["http://a.com/x"]}`, 400, "egress"},
		{"PUT", "/api/v1/apps/lim/limits", `nope`, 400, "not valid JSON"},
		{"PUT", "/api/v1/apps/ghost/limits", `{}`, 404, `no app \"ghost\"`},
		{"GET", "/api/v1/apps/ghost/limits", ``, 404, `no app \"ghost\"`},
		{"GET", "/api/v1/apps/Bad/limits", ``, 400, "invalid app id"},
	} {
		if code, body, _ := call(t, c.method, base+c.path, token, "", "application/json", c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, code, body)
		}
	}
	if code, _, _ := call(t, "PUT", base+"/api/v1/apps/lim/limits", "", "", "", `{}`); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	if l3 := read(call(t, "GET", base+"/api/v1/apps/lim/limits", token, "", "", "")); l3.Overrides["cpuMs"] != 20 || l3.Overrides["memoryMB"] != 32 || len(l3.Overrides) != 2 {
		t.Fatalf("after refusals: %+v", l3)
	}
}
