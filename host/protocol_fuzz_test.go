package host

import (
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
// metering silently, and specs decode or fail (and what decodes
// re-encodes to the same spec).
func FuzzProtocol(f *testing.F) {
	f.Add(`{"code":"limit","message":"m","limit":"CPU time"}`, `12 1 2`, (&wireSpec{ID: "a", Version: 1, Class: "App", Quotas: supervisor.Quotas{CPUMs: 5}, Egress: true}).encode())
	f.Add(`not json`, `-5 0 0`, `a  x y 1 2 3 4 5 1`)
	f.Add(`{"code":""}`, ``, `a%zz b c d 1 2 3 4 5 0`)
	f.Add(strings.Repeat("x", 5000), `1e400 1 1`, `a b c d -1 2 3 4 5 0`)
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
		if ws, err := decodeSpec(spec); err == nil {
			if again, err := decodeSpec(ws.encode()); err != nil || again != ws {
				t.Fatalf("spec %q: decoded %+v, which re-encodes to %q (%v)", spec, ws, ws.encode(), err)
			}
			if ws.Version < 0 || ws.Quotas.CPUMs < 0 || ws.Quotas.MemoryMB < 0 || ws.Quotas.StorageBytes < 0 || ws.Quotas.RequestsPerMinute < 0 {
				t.Fatalf("spec %q: negative figures %+v", spec, ws)
			}
		}
	})
}
