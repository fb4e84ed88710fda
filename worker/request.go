package worker

// Requests: an incoming HTTP request as the fetch dispatch hands it to
// JavaScript.

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"golang.org/x/net/http/httpguts"
)

// fetchRequest is an incoming request as the fetch dispatch takes it:
// headers as "name\nvalue\n..." with lowercase names, body as text (kind
// 1, valid UTF-8) or base64 (kind 2), or none (kind 0).
type fetchRequest struct {
	method, url, headers string
	body                 any
	bodyKind             int
	held                 int64 // the body's bytes counted in the isolate's buffered bytes
}

// fetchArgs reads req for the fetch dispatch. Its body is read whole into
// Go before the request is queued, so the bytes it holds count, with the
// subrequest bodies (readBuffered), against the isolate's memory limit:
// requests sent at once to one isolate cannot hold more than that between
// them before JavaScript takes them (past it a request fails with 503).
// The caller gives back args.held once JavaScript has the body.
func (in *Instance) fetchArgs(req *http.Request) (fetchRequest, error) {
	maxBody := in.limits.RequestBodyBytes
	w := fetchRequest{method: req.Method}
	if req.URL.Host == "" {
		u := *req.URL
		u.Scheme = "http"
		if req.TLS != nil {
			u.Scheme = "https"
		}
		u.Host = req.Host
		if u.Host == "" {
			u.Host = "localhost"
		}
		w.url = u.String()
	} else {
		w.url = req.URL.String()
	}
	var hb strings.Builder
	for k, vs := range req.Header {
		// net/http delivers only valid headers; a request made in Go (or
		// from another isolate's request) is checked here, because the
		// isolate adopts the list without checking it again.
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				continue
			}
			if hb.Len() > 0 {
				hb.WriteByte('\n')
			}
			lowerASCII(&hb, k)
			hb.WriteByte('\n')
			hb.WriteString(v)
		}
	}
	w.headers = hb.String()
	if req.Body != nil && req.Body != http.NoBody && req.Method != "GET" && req.Method != "HEAD" {
		b, err := in.readRequestBody(req.Body, maxBody)
		if err != nil {
			return w, err
		}
		if utf8.Valid(b) {
			// Text crosses as a string: JavaScript reads it with text() or
			// json() without decoding bytes.
			w.body, w.bodyKind = string(b), 1
			w.held = int64(len(b))
		} else {
			enc := base64.StdEncoding.EncodeToString(b)
			w.body, w.bodyKind = enc, 2
			w.held = int64(len(enc)) // what is held from now on
			in.buffered.Add(w.held - int64(len(b)))
		}
	}
	return w, nil
}

// readRequestBody reads body whole, at most max bytes, counting what it
// holds in in.buffered (the caller gives back len of the result).
func (in *Instance) readRequestBody(body io.Reader, max int64) ([]byte, error) {
	return in.readHeld(body, max,
		func() error {
			return &warren.Error{Code: warren.CodeTooLarge, Limit: "request body", Message: fmt.Sprintf("the request body is larger than the limit of %s", warren.Bytes(max)), Hint: "send a smaller body, or raise the requestBodyBytes limit"}
		},
		func() error {
			return &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("the Worker has more request and subrequest body data waiting in memory than its memory limit (%s): the request was refused before it was delivered", warren.Bytes(in.limits.MemoryBytes)), Hint: "retry the request; send fewer large bodies to one Worker at once"}
		},
		func(err error) error {
			return &warren.Error{Code: warren.CodeBadRequest, Message: "reading the request body: " + err.Error()}
		})
}

// lowerASCII writes s in lowercase (header names are ASCII tokens).
func lowerASCII(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}
