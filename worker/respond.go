package worker

// Responses: what a fetch handler returns, checked again in Go (the prelude
// builds it from a Response, but app code can tamper with its own Response).

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/respond"
	"github.com/warrenhq/warren/webapi"
	"golang.org/x/net/http/httpguts"
)

func init() {
	opsOf(map[string]opFunc{
		"respond": func(in *Instance, args []any) (any, error) { return nil, in.opRespond(args) },
		"chunk":   func(in *Instance, args []any) (any, error) { return in.opChunk(args) },
		"end":     opEnd,
	})
}

// maxResponseHeaderBytes bounds the headers of a Worker's response.
const maxResponseHeaderBytes = 256 << 10

// responseHeaders reads a response's header list as the prelude hands it
// over ("name\nvalue\n..."), checking it again: the prelude's Headers
// class validates, but the host trusts nothing from inside the isolate.
// Framing headers are dropped. An error without a Code means the list
// could not be read at all.
func responseHeaders(list string) (http.Header, *warren.Error) {
	h := http.Header{}
	size := 0
	for rest := list; rest != ""; {
		name, after, found := strings.Cut(rest, "\n")
		if !found {
			return nil, &warren.Error{} // a name without a value
		}
		var value string
		value, rest, _ = strings.Cut(after, "\n")
		if !httpguts.ValidHeaderFieldName(name) || strings.ContainsAny(value, "\r\n\x00") {
			return nil, &warren.Error{Code: warren.CodeException, Message: fmt.Sprintf("the Worker's response has an invalid header %q: %q", name, value), Hint: "header names must be HTTP tokens and values must not contain CR, LF or NUL"}
		}
		k := http.CanonicalHeaderKey(name)
		if respond.Framing(k) { // the HTTP server frames the response itself
			continue
		}
		size += len(name) + len(value)
		if size > maxResponseHeaderBytes {
			return nil, &warren.Error{Code: warren.CodeTooLarge, Limit: "response headers", Message: fmt.Sprintf("the Worker's response headers are larger than %d bytes", maxResponseHeaderBytes)}
		}
		h[k] = append(h[k], value)
	}
	return h, nil
}

// opRespond takes a fetch invocation's response: (inv, status, statusText,
// headers, body, kind), headers as "name\nvalue\n..." and kind 0 (no
// body), 1 (body is text), 2 (body is base64) or 3 (streamed: chunks
// follow). The prelude builds these from a Response, but app code can
// tamper with its own Response: everything is checked again here.
func (in *Instance) opRespond(args []any) error {
	inv, err := in.argInv(args, 0)
	if err != nil {
		return err
	}
	if inv.kind != "fetch" || inv.answered {
		return errors.New("this invocation cannot send a response")
	}
	unreadable := func() error {
		in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeException, Message: "the Worker's response could not be read", Hint: "return a Response made with new Response(...)"}})
		return nil
	}
	status, ok := argStatus(args, 1)
	statusText, ok2 := argOr(args, 2, "")
	headers, ok3 := argOr(args, 3, "")
	kind, err := webapi.ArgInt(args, 5)
	if !ok || !ok2 || !ok3 || err != nil {
		return unreadable()
	}
	if status < 200 || status > 599 {
		in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeException, Message: fmt.Sprintf("the Worker returned status %d; a response status must be 200 to 599 (WebSockets are not supported yet)", status)}})
		return nil
	}
	resp := &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + strings.Map(printable, statusText), Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	h, herr := responseHeaders(headers)
	if herr != nil {
		if herr.Code == "" {
			return unreadable()
		}
		in.finish(inv, invResult{err: herr})
		return nil
	}
	resp.Header = h
	inv.answered = true
	switch kind {
	case 3:
		inv.stream = newBodyStream(in.limits.ResponseBodyBytes)
		resp.Body = inv.stream
		resp.ContentLength = -1
	case 0, 1, 2:
		s, _ := args[4].(string)
		if kind == 2 {
			if int64(base64.StdEncoding.DecodedLen(len(s))) > in.limits.ResponseBodyBytes+3 {
				in.finish(inv, invResult{err: tooLargeResponse(in.limits.ResponseBodyBytes)})
				return nil
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return err
			}
			s = string(b)
		}
		if int64(len(s)) > in.limits.ResponseBodyBytes {
			in.finish(inv, invResult{err: tooLargeResponse(in.limits.ResponseBodyBytes)})
			return nil
		}
		resp.Body = io.NopCloser(strings.NewReader(s))
		resp.ContentLength = int64(len(s))
	default:
		inv.answered = false
		return unreadable()
	}
	in.gate(inv, invResult{resp: resp})
	return nil
}

func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

func tooLargeResponse(max int64) *warren.Error {
	return &warren.Error{Code: warren.CodeTooLarge, Limit: "response body", Message: fmt.Sprintf("the Worker's response body is larger than the limit of %d bytes", max), Hint: "return less data (paginate, or stream a smaller body), or raise the responseBodyBytes limit"}
}

func (in *Instance) opChunk(args []any) (any, error) {
	inv, err := in.argInv(args, 0)
	if err != nil {
		return false, nil
	}
	if inv.stream == nil {
		return false, errors.New("no streamed response")
	}
	s, err := webapi.ArgString(args, 1)
	if err != nil {
		return false, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false, err
	}
	return inv.stream.write(b), nil
}

// opEnd ends a streamed response body: (inv[, error message]).
func opEnd(in *Instance, args []any) (any, error) {
	inv, err := in.argInv(args, 0)
	if err != nil || inv.stream == nil {
		return nil, err
	}
	if len(args) > 1 {
		if msg, ok := args[1].(string); ok {
			inv.stream.finish(&warren.Error{Code: warren.CodeException, Message: "the response stream failed: " + msg})
			return nil, nil
		}
	}
	in.chargeSoFar(inv)
	inv.stream.finish(nil)
	return nil, nil
}
