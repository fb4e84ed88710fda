package wire

import (
	"encoding/binary"
	"io"
	"net/http"
	"testing"
	"time"
)

// FuzzFrames: a peer (a subverted host) sends arbitrary bytes. The
// connection never panics: it serves what is well formed and ends with an
// error on what is not.
func FuzzFrames(f *testing.F) {
	head := appendRequestHead(nil, "GET", "/x?y=1", "h", -1, http.Header{"A": {"b"}})
	valid := appendFrame(nil, fHeaders, flagFromInit|flagEnd, 1, head)
	f.Add(valid)
	f.Add(appendFrame(appendFrame(nil, fHeaders, flagFromInit, 3, head), fData, flagFromInit, 3, []byte("body")))
	f.Add(appendFrame(nil, fEnd, flagFromInit, 3, appendHeader(nil, http.Header{"T": {"1"}})))
	f.Add(appendFrame(nil, fWindow, 0, 1, binary.AppendUvarint(nil, 1<<30)))
	f.Add(appendFrame(nil, fConnWindow, 0, 0, binary.AppendUvarint(nil, 1)))
	f.Add(appendFrame(nil, fConnWindow, 0, 0, binary.AppendUvarint(nil, ConnWindow+1)))
	f.Add(appendFrame(nil, fReset, flagFromInit, 9, []byte("why")))
	f.Add(appendFrame(nil, fHeaders, 0, 1, appendResponseHead(nil, 200, 5, nil)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := pair(t)
		c := NewConn(a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok"))
		}))
		defer c.Close()
		go io.Copy(io.Discard, b) // the "host" ignores what it is sent
		b.Write(in)
		b.Close()
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the connection did not end when its peer closed")
		}
		if c.Err() == nil {
			t.Fatal("ended without an error")
		}
	})
}

// FuzzHeads: head decoding never panics and round-trips what it encodes.
func FuzzHeads(f *testing.F) {
	f.Add("GET", "/a?b", "host", int64(-1), "K", "v")
	f.Add("", "", "", int64(0), "", "")
	f.Add("POST", "/\x00", "h\xff", int64(1<<40), "X-\r\n", "\n")
	f.Fuzz(func(t *testing.T, method, target, host string, clen int64, k, v string) {
		clen = min(max(clen, -1), 1<<61)
		p := appendRequestHead(nil, method, target, host, clen, http.Header{k: {v}})
		m2, t2, h2, c2, hd, err := decodeRequestHead(p)
		if err != nil || m2 != method || t2 != target || h2 != host || c2 != clen || hd[k][0] != v {
			t.Fatalf("round trip: %v %q %q %q %d %v", err, m2, t2, h2, c2, hd)
		}
		decodeRequestHead([]byte(method + target))
		decodeResponseHead([]byte(host + k))
		decodeHeader([]byte(v))
	})
}
