// Package respond writes Warren's HTTP answers: errors as a status and a
// JSON body ({"error": {...}}, the status chosen by the error's code), JSON
// values, and responses copied from a Worker, an app's runner or a host.
// The gateway, the supervisor and the host processes all answer through
// it, so an error looks the same wherever it is made. It imports only the
// root package.
package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/warrenhq/warren"
)

// AsError turns any error into a *warren.Error with a code that chooses
// its HTTP status.
func AsError(err error) *warren.Error {
	var we *warren.Error
	if errors.As(err, &we) {
		return we
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &warren.Error{Code: warren.CodeUnavailable, Message: err.Error()}
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &warren.Error{Code: warren.CodeTooLarge, Limit: "request body", Message: fmt.Sprintf("the request body is larger than %d bytes", mb.Limit), Hint: "send a smaller body"}
	}
	return &warren.Error{Code: warren.CodeInternal, Message: err.Error()}
}

// Error writes err as {"error": {...}} with the status of its code.
func Error(w http.ResponseWriter, err error) {
	e := AsError(err)
	JSON(w, e.Code.HTTPStatus(), map[string]any{"error": e})
}

// ReadError reads an error Error wrote, from a response's body (at most
// 1 MiB); a body that is not one is an internal error that quotes it.
func ReadError(resp *http.Response) *warren.Error {
	var body struct {
		Error *warren.Error `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil || body.Error == nil || body.Error.Code == "" {
		return &warren.Error{Code: warren.CodeInternal, Message: fmt.Sprintf("an error answer that does not read as one (%s): %.200s", resp.Status, b)}
	}
	return body.Error
}

// JSON writes v as indented JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// framing are the hop-by-hop and framing headers: the HTTP server frames
// an answer itself, so neither a Worker's response nor a copied one may set
// them.
var framing = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Content-Length": true,
}

// Framing reports whether name (canonical) is a framing or hop-by-hop
// header.
func Framing(name string) bool { return framing[name] }

// notCopied reports the headers Copy never passes on: framing ones (the
// server frames the answer from resp.ContentLength) and the platform's
// request id.
func notCopied(name string) bool { return framing[name] || name == RequestIDHeader }

// Copy sends resp to w and closes its body: its header with names in their
// canonical form (a host's answer crosses the host protocol with its names
// as the host wrote them, and net/http knows framing headers only in that
// form) and without notCopied, its Content-Length when known, a body of
// known length in one go, a stream chunk by chunk, flushed as chunks arrive. It returns the error of a body
// that broke midway (the caller should then abort the response, with
// panic(http.ErrAbortHandler), so that the client does not take a short
// body for a whole one); a client that went away is not an error.
func Copy(w http.ResponseWriter, resp *http.Response) error {
	defer resp.Body.Close()
	h := w.Header()
	copied := http.Header{}
	for k, v := range resp.Header {
		ck := http.CanonicalHeaderKey(k)
		if !notCopied(ck) {
			copied[ck] = append(copied[ck], v...)
		}
	}
	for k, v := range copied {
		h[k] = v
	}
	if resp.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var fl http.Flusher
	if resp.ContentLength < 0 {
		fl, _ = w.(http.Flusher)
	}
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client went away
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			if err != io.EOF {
				return err
			}
			return nil
		}
	}
}
