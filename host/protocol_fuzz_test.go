package host

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// FuzzProtocol: what crosses the socket pair from a (possibly subverted)
// host is never trusted: error bodies always become a *warren.Error, usage
// trailers never panic or produce negative figures that would corrupt
// metering silently, and specs decode or fail.
func FuzzProtocol(f *testing.F) {
	f.Add(`{"code":"limit","message":"m","limit":"CPU time"}`, `{"cpu":12,"rr":1,"rw":2}`, `{"id":"a","version":1,"class":"App","quotas":{"cpuMs":5},"egress":true}`)
	f.Add(`not json`, `{"cpu":-5}`, `{`)
	f.Add(`{"code":""}`, ``, `{"id":123}`)
	f.Add(strings.Repeat("x", 5000), `{"cpu":1e400}`, `null`)
	f.Fuzz(func(t *testing.T, errBody, usage, spec string) {
		resp := &http.Response{Status: "500 x", StatusCode: 500, Body: io.NopCloser(strings.NewReader(errBody))}
		err := readErr(resp)
		if e, ok := err.(*warren.Error); !ok || e.Code == "" {
			t.Fatalf("readErr(%q) = %#v", errBody, err)
		}
		var ru supervisor.RunUsage
		parseUsage(usage, &ru)
		if ru.CPU < 0 || ru.RowsRead < 0 || ru.RowsWritten < 0 {
			t.Fatalf("parseUsage(%q) = %+v: negative usage", usage, ru)
		}
		var ws wireSpec
		_ = json.Unmarshal([]byte(spec), &ws)
	})
}
