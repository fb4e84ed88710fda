package gateway_test

import (
	"strings"
	"testing"

	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/loader"
)

const runToken = "run-token-0123456789abc"

func runServer(t *testing.T, mode gateway.RunAccess) string {
	rt := testrt.Runtime(t)
	ld := loader.New(rt, loader.Options{})
	t.Cleanup(ld.Close)
	return serve(t, &gateway.Server{Loader: ld, AdminToken: token, RunToken: runToken, RunAPI: mode}).URL
}

const hello = `export default { fetch() { return new Response("ran") } }`

// POST /api/v1/run runs any code it is sent: by default only a caller
// with the admin token or the run token may use it; --run-api=open lets
// anyone, --run-api=off no one.
func TestRunAPIAccess(t *testing.T) {
	base := runServer(t, "") // the zero value: tokens
	for tok, want := range map[string]int{"": 401, "wrong-token-0123456789": 401, token: 200, runToken: 200} {
		code, body, h := call(t, "POST", base+"/api/v1/run", tok, "", "application/javascript", hello)
		if code != want {
			t.Errorf("token %q: %d %s", tok, code, body)
		}
		if want == 401 && (!strings.Contains(body, `"unauthorized"`) || !strings.Contains(body, "--run-api=open") || h.Get("WWW-Authenticate") == "") {
			t.Errorf("token %q: %s %v", tok, body, h)
		}
		if want == 200 && body != "ran" {
			t.Errorf("token %q: %q", tok, body)
		}
	}
	// The run token opens the run API only.
	if code, _, _ := call(t, "GET", base+"/api/v1/apps", runToken, "", "", ""); code == 200 {
		t.Errorf("the run token reached the admin API: %d", code)
	}
	open := runServer(t, gateway.RunAPIOpen)
	if code, body, _ := call(t, "POST", open+"/api/v1/run", "", "", "application/javascript", hello); code != 200 || body != "ran" {
		t.Errorf("open: %d %s", code, body)
	}
	off := runServer(t, gateway.RunAPIOff)
	if code, body, _ := call(t, "POST", off+"/api/v1/run", token, "", "application/javascript", hello); code != 404 || !strings.Contains(body, "run API is off") {
		t.Errorf("off: %d %s", code, body)
	}
	if _, err := gateway.ParseRunAccess("public"); err == nil {
		t.Error("--run-api=public accepted")
	}
}

// A run's failure reaches a caller with a token whole (message, stack);
// an anonymous caller of an open run API gets its code and a request id.
func TestRunErrorsByCaller(t *testing.T) {
	thrower := `export default { fetch() { throw new TypeError("detail-for-the-author") } }`
	base := runServer(t, gateway.RunAPIOpen)
	code, body, h := call(t, "POST", base+"/api/v1/run", token, "", "application/javascript", thrower)
	if code != 500 || !strings.Contains(body, "detail-for-the-author") || !strings.Contains(body, `"stack"`) || h.Get("Warren-Request-Id") == "" {
		t.Fatalf("with a token: %d %s %v", code, body, h)
	}
	code, body, h = call(t, "POST", base+"/api/v1/run", "", "", "application/javascript", thrower)
	if rid := h.Get("Warren-Request-Id"); code != 500 || strings.Contains(body, "detail-for-the-author") || strings.Contains(body, `"stack"`) || rid == "" || !strings.Contains(body, `"requestId": "`+rid+`"`) {
		t.Fatalf("anonymous: %d %s %v", code, body, h)
	}
	code, body, _ = call(t, "POST", base+"/api/v1/run?envelope=1", "", "", "application/javascript", thrower)
	if code != 500 || strings.Contains(body, `"stack"`) || !strings.Contains(body, `"exception"`) {
		t.Fatalf("anonymous envelope: %d %s", code, body)
	}
}

// A run's envelope carries at most MaxEnvelopeBody of its body, and bytes
// JSON would escape six to one as base64: a 32 MiB body of NULs became a
// 201 MB answer held whole in the control plane, per run in flight.
func TestRunEnvelopeBounded(t *testing.T) {
	base := runServer(t, "")
	big := `export default { fetch() { return new Response(new Uint8Array(8 << 20)) } }`
	code, body, _ := call(t, "POST", base+"/api/v1/run?envelope=1", token, "", "application/javascript", big)
	if code != 200 || !strings.Contains(body, `"bodyTruncated": true`) || !strings.Contains(body, `"bodyEncoding": "base64"`) {
		t.Fatalf("%d %.300s", code, body)
	}
	if len(body) > gateway.MaxEnvelopeBody*4/3+64<<10 {
		t.Fatalf("the envelope of an 8 MiB body is %d bytes", len(body))
	}
	code, body, _ = call(t, "POST", base+"/api/v1/run?envelope=1", token, "", "application/javascript", hello)
	if code != 200 || !strings.Contains(body, `"body": "ran"`) || strings.Contains(body, "bodyTruncated") {
		t.Fatalf("small: %d %s", code, body)
	}
}
