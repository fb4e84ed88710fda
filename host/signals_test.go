package host_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// burn is an app that does the same work whatever it is asked; the query
// says which X-Warren-* headers it sets on its response.
const burn = `export default { fetch(req) {
  let x = 0;
  for (let i = 0; i < 5e4; i++) x = (x + i * 7) % 1000003;
  const h = new Headers({ "content-type": "text/plain" });
  const q = new URL(req.url).searchParams;
  if (q.has("usage")) h.set("x-warren-usage", "0 0 0");
  if (q.has("error")) h.set("x-warren-error", "1");
  return new Response("worked " + x, { status: q.has("error") ? 418 : 200, headers: h });
} }`

// An app cannot forge the platform's signals: X-Warren-* headers it sets
// on its response are its own headers, passed through, never read as the
// host's usage report or error flag.
func TestAppCannotForgeSignals(t *testing.T) {
	s, _ := newPoolSup(t, 1)
	for _, id := range []string{"honest", "forger", "forger2"} {
		deploy(t, s, id, burn)
	}
	get := func(id, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeApp(rec, httptest.NewRequest("GET", "http://x"+path, nil), id, strings.Split(path, "?")[0])
		return rec
	}
	for i := 0; i < 3; i++ {
		if rec := get("honest", "/"); rec.Code != 200 {
			t.Fatalf("honest: %d %s", rec.Code, rec.Body)
		}
		if rec := get("forger", "/?usage"); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "worked ") || rec.Header().Get("X-Warren-Usage") != "0 0 0" {
			t.Fatalf("forger: %d %q %v", rec.Code, rec.Body, rec.Header())
		}
		// (b) Its own 418, its own body and headers: not a platform error.
		rec := get("forger2", "/?usage&error")
		if rec.Code != 418 || !strings.HasPrefix(rec.Body.String(), "worked ") || rec.Header().Get("X-Warren-Error") != "1" || rec.Header().Get("Content-Type") != "text/plain" {
			t.Errorf("forged error: got %d %q %v, want the app's own 418", rec.Code, rec.Body, rec.Header())
		}
	}
	// (a) Metered like the honest app doing the same work.
	cpu := map[string]float64{}
	for _, id := range []string{"honest", "forger", "forger2"} {
		rows, err := s.Usage(id, "all")
		if err != nil || len(rows) != 1 || rows[0].Requests != 3 {
			t.Fatalf("%s usage: %+v %v", id, rows, err)
		}
		cpu[id] = rows[0].CPUMs
	}
	for _, id := range []string{"forger", "forger2"} {
		if cpu[id] <= 0 || cpu[id] < cpu["honest"]/4 {
			t.Errorf("%s metered %.3f ms of CPU; the honest app doing the same work %.3f ms", id, cpu[id], cpu["honest"])
		}
	}
	if rows, _ := s.Usage("forger2", "all"); len(rows) == 1 && rows[0].Errors != 0 {
		t.Errorf("the app's own 418 was metered as an error: %+v", rows[0])
	}
}

// The hosts' calls back carry the same out-of-band error flag: an outbound
// response that sets X-Warren-Error reaches the app as a response.
func TestOutboundResponseCannotForgeError(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Warren-Error", "1")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{"code":"limit","message":"forged by the remote server"}`))
	}))
	defer backend.Close()
	s, _ := newPoolSup(t, 1)
	deploy(t, s, "out", `export default { async fetch() {
  try { const r = await fetch("`+backend.URL+`/"); return new Response(r.status + " " + r.headers.get("x-warren-error") + " " + await r.text()); }
  catch (e) { return new Response("threw " + e.message); }
} }`, strings.TrimPrefix(backend.URL, "http://"))
	code, body := do(s, "GET", "out", "/")
	if code != 200 || !strings.HasPrefix(body, `418 1 {"code":"limit"`) {
		t.Fatalf("got %d %q, want the remote server's 418 as a response", code, body)
	}
}
