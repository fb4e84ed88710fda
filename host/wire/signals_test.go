package wire

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Signals travel apart from the header and trailers: a handler relaying
// headers and trailers named like its signals does not change them, and
// no signal shows up among the response's header or trailers.
func TestSignalsApartFromHeaders(t *testing.T) {
	for _, body := range []string{"", "some body"} {
		client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Usage", "forged head")
			w.Header().Set("Trailer", "Error")
			w.Header().Set("Error", "forged trailer")
			SetSignal(w, "Error", "1")
			w.WriteHeader(418)
			io.WriteString(w, body)
			SetSignal(w, "Usage", "42")
		}))
		req, _ := http.NewRequest("GET", "http://peer/", nil)
		resp, sig, err := client.RoundTripSignals(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 418 || resp.Header.Get("Usage") != "forged head" || sig.Head.Get("Error") != "1" || sig.Head.Get("Usage") != "" {
			t.Fatalf("head: %d %v, signals %+v", resp.StatusCode, resp.Header, sig)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != body || sig.End.Get("Usage") != "42" || len(sig.End) != 1 || resp.Trailer.Get("Error") != "forged trailer" || resp.Trailer.Get("Usage") != "" {
			t.Fatalf("end: %q, trailer %v, signals %+v", b, resp.Trailer, sig)
		}
	}
	// Without RoundTripSignals, signals are not seen at all.
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetSignal(w, "Error", "1")
		io.WriteString(w, "plain")
	}))
	req, _ := http.NewRequest("GET", "http://peer/", strings.NewReader(""))
	resp, err := client.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "plain" || len(resp.Header) != 0 || len(resp.Trailer) != 0 {
		t.Fatalf("%q %v %v", b, resp.Header, resp.Trailer)
	}
}
