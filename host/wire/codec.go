package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
)

// Heads are sequences of uvarint-prefixed strings and uvarints:
//
//	request:  method, target, host, content length + 1, header
//	response: status, content length + 1, header
//	header:   count, then count × (name, value), one pair per value
//
// (a content length of -1, unknown, is sent as 0). A response's head or
// end frame with flagSignals starts with the signals, a header block of
// their own, before the head or the trailers.

var errMalformed = errors.New("wire: malformed head")

// maxFields bounds the header fields of one head.
const maxFields = 10000

// errLimits is a head or trailers the peer would refuse: its stream fails,
// not the connection.
var errLimits = fmt.Errorf("wire: head or trailers over the protocol's limits (%d bytes, %d fields)", MaxPayload, maxFields)

// within reports whether an encoded head or trailers p, with header h, is
// within what the peer accepts.
func within(p []byte, h http.Header) bool {
	if len(p) > MaxPayload {
		return false
	}
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n <= maxFields
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendHeader(b []byte, h http.Header) []byte {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	b = binary.AppendUvarint(b, uint64(n))
	for k, vs := range h {
		for _, v := range vs {
			b = appendString(b, k)
			b = appendString(b, v)
		}
	}
	return b
}

func appendRequestHead(b []byte, method, target, host string, clen int64, h http.Header) []byte {
	b = appendString(b, method)
	b = appendString(b, target)
	b = appendString(b, host)
	b = binary.AppendUvarint(b, uint64(max(clen, -1)+1))
	return appendHeader(b, h)
}

func appendResponseHead(b []byte, status int, clen int64, h http.Header) []byte {
	b = binary.AppendUvarint(b, uint64(status))
	b = binary.AppendUvarint(b, uint64(max(clen, -1)+1))
	return appendHeader(b, h)
}

// decoder reads a head, failing on the first malformed field.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errMalformed
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.p)) {
		d.err = errMalformed
		return ""
	}
	s := string(d.p[:n])
	d.p = d.p[n:]
	return s
}

func (d *decoder) clen() int64 {
	v := d.uvarint()
	if v > 1<<62 {
		d.err = errMalformed
	}
	return int64(v) - 1
}

func (d *decoder) header() http.Header {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > maxFields || n > uint64(len(d.p)) { // each field takes at least 2 bytes
		d.err = errMalformed
		return nil
	}
	h := make(http.Header, min(n, 16)) // sized by what arrives, not by what the peer claims
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.string()
		v := d.string()
		h[k] = append(h[k], v)
	}
	return h
}

func (d *decoder) done() error {
	if d.err == nil && len(d.p) != 0 {
		d.err = errMalformed
	}
	return d.err
}

// cutSignals reads the signals in front of a frame sent with flagSignals
// and returns the rest of its payload.
func cutSignals(p []byte) (sig http.Header, rest []byte, err error) {
	d := decoder{p: p}
	sig = d.header()
	return sig, d.p, d.err
}

func decodeHeader(p []byte) (http.Header, error) {
	d := decoder{p: p}
	h := d.header()
	return h, d.done()
}

func decodeRequestHead(p []byte) (method, target, host string, clen int64, h http.Header, err error) {
	d := decoder{p: p}
	method, target, host = d.string(), d.string(), d.string()
	clen = d.clen()
	h = d.header()
	return method, target, host, clen, h, d.done()
}

func decodeResponseHead(p []byte) (status int, clen int64, h http.Header, err error) {
	d := decoder{p: p}
	st := d.uvarint()
	clen = d.clen()
	h = d.header()
	if d.err == nil && (st < 100 || st > 999) {
		d.err = errMalformed
	}
	return int(st), clen, h, d.done()
}
