package worker

import (
	"strings"
	"testing"

	"github.com/warrenhq/warren/respond"
	"golang.org/x/net/http/httpguts"
)

// FuzzResponseHeaderList: the header list an isolate hands to respond is
// checked at the boundary whatever the prelude did. Since the prelude keeps
// its lists in private fields, app code can no longer forge one (the
// JavaScript FuzzRespondHeaders cannot reach this check any more), so the
// check is fuzzed here directly: what it accepts has token names, values
// without CR, LF or NUL, no framing headers, and stays under the size limit.
func FuzzResponseHeaderList(f *testing.F) {
	f.Add("content-type\ntext/plain\nx-a\n1")
	f.Add("x\r\ninjected\n1")
	f.Add("a\nb\r\nInjected: 1")
	f.Add("transfer-encoding\nchunked\nconnection\nclose")
	f.Add("name-without-value")
	f.Add("\n\n")
	f.Add("x-big\n" + strings.Repeat("v", maxResponseHeaderBytes))
	f.Fuzz(func(t *testing.T, list string) {
		h, err := responseHeaders(list)
		if err != nil {
			if h != nil {
				t.Fatal("headers returned with an error")
			}
			return
		}
		size := 0
		for k, vs := range h {
			if !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("accepted name %q", k)
			}
			if respond.Framing(k) {
				t.Fatalf("accepted framing header %q", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("accepted value %q", v)
				}
				size += len(k) + len(v)
			}
		}
		if size > maxResponseHeaderBytes {
			t.Fatalf("accepted %d bytes of headers", size)
		}
	})
}
