package supervisor_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// FuzzAppID: ValidateID accepts exactly DNS-label-shaped ids, and routing
// an arbitrary id to the supervisor never panics and never answers
// anything but 400 (bad id) or 404 (unknown app).
func FuzzAppID(f *testing.F) {
	for _, s := range []string{"shop", "a", "a-b", "..", "../etc", "A", "a_b", "-a", "a-", strings.Repeat("a", 63), strings.Repeat("a", 64), "", "a/b", "a.b", "ü", "a\x00b", "%2e%2e", "con", "x\n"} {
		f.Add(s)
	}
	s, err := supervisor.New(supervisor.Options{Runtime: nil, Runner: nopRunner{}, Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, id string) {
		err := supervisor.ValidateID(id)
		ok := len(id) >= 1 && len(id) <= 63 && id[0] != '-' && id[len(id)-1] != '-'
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				ok = false
			}
		}
		if (err == nil) != ok {
			t.Fatalf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
		if err != nil && (!utf8.ValidString(err.Error()) || !strings.Contains(err.Error(), "invalid app id")) {
			t.Fatalf("error for %q: %v", id, err)
		}
		rec := httptest.NewRecorder()
		s.ServeApp(rec, httptest.NewRequest("GET", "http://x/", nil), id, "/")
		if rec.Code != 400 && rec.Code != 404 {
			t.Fatalf("ServeApp(%q) = %d", id, rec.Code)
		}
		var body struct{ Error warren.Error }
		if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code == "" {
			t.Fatalf("ServeApp(%q) body: %s", id, rec.Body)
		}
	})
}

// FuzzParseDeployment: any body with any content type is parsed or refused
// with a *warren.Error, never a panic; a parsed JSON bundle round-trips.
func FuzzParseDeployment(f *testing.F) {
	f.Add("application/json", `{"mainModule":"a.js","modules":{"a.js":"export default {}"},"className":"App","limits":{"cpuMs":5},"egress":["a.com"]}`)
	f.Add("application/json", `{"mainModule":"a.js","modules":{"a.js":{"text":"x"}},"limits":{"memoryMB":-1}}`)
	f.Add("application/json", `{`)
	f.Add("application/json; charset=utf-8", `{"modules":{}}`)
	f.Add("application/typescript", "export class App {}")
	f.Add("text/javascript", "\xff\xfe")
	f.Add("image/png", "x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, ct, body string) {
		d, err := supervisor.ParseDeployment(ct, []byte(body))
		if err != nil {
			if warren.ErrorCode(err) == warren.CodeInternal {
				t.Fatalf("not a *warren.Error: %v", err)
			}
			return
		}
		if d.MainModule == "" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
			return // valid JSON without code: Deploy's Validate refuses it
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back supervisor.Deployment
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip of %s: %v", b, err)
		}
	})
}

// nopRunner runs nothing: the routing fuzz target never reaches an app.
type nopRunner struct{}

func (nopRunner) Validate(context.Context, string, *supervisor.Deployment, supervisor.Quotas) (string, error) {
	return "", nil
}
func (nopRunner) Serve(context.Context, *supervisor.AppSpec, *http.Request) (*http.Response, *supervisor.RunUsage, error) {
	return nil, nil, &warren.Error{Code: warren.CodeInternal, Message: "nop"}
}
func (nopRunner) Stop(string)                   {}
func (nopRunner) RunningApps() map[string]bool  { return nil }
func (nopRunner) Stats() supervisor.RunnerStats { return supervisor.RunnerStats{} }
func (nopRunner) Close()                        {}
