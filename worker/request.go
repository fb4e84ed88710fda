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
}

func fetchArgs(req *http.Request, maxBody int64) (fetchRequest, error) {
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
		b, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		if err != nil {
			return w, &warren.Error{Code: warren.CodeBadRequest, Message: "reading the request body: " + err.Error()}
		}
		if int64(len(b)) > maxBody {
			return w, &warren.Error{Code: warren.CodeTooLarge, Limit: "request body", Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", maxBody), Hint: "send a smaller body, or raise the requestBodyBytes limit"}
		}
		if utf8.Valid(b) {
			// Text crosses as a string: JavaScript reads it with text() or
			// json() without decoding bytes.
			w.body, w.bodyKind = string(b), 1
		} else {
			w.body, w.bodyKind = base64.StdEncoding.EncodeToString(b), 2
		}
	}
	return w, nil
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
