package worker

// Outbound requests: fetch(), and the fetch and RPC calls of stubs, made on
// their own goroutines (async) and settled back on the loop. A request and a
// response cross between JavaScript and Go in their JSON forms (jsRequest,
// jsResponse).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

func init() {
	opsOf(map[string]opFunc{
		"fetch": opFetch,
	})
}

// jsRequest is a request as JavaScript hands it to Go for fetch().
type jsRequest struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
	Body    *string     `json:"body"` // base64
}

// jsResponse is a response as Go hands it to JavaScript: the body as base64,
// or as text when the caller accepts text and the body is UTF-8 with a
// Content-Type (so JavaScript adds none, and can pass the text on as it is).
type jsResponse struct {
	Status     int         `json:"status"`
	StatusText string      `json:"statusText,omitempty"`
	Headers    [][2]string `json:"headers"`
	Body       *string     `json:"body,omitempty"`
	Text       *string     `json:"text,omitempty"`
	URL        string      `json:"url,omitempty"`
	Redirected bool        `json:"redirected,omitempty"`
}

// subrequest counts one outbound request against the current invocation.
func (in *Instance) subrequest() (*invocation, error) {
	inv := in.current
	if inv == nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "fetch() and RPC calls can only be made while handling a request, not at the top level of a module", Hint: "move the call into a handler"}
	}
	inv.subreqs++
	if inv.usage != nil {
		inv.usage.subrequests.Add(1)
	}
	if inv.subreqs > inv.subLimit {
		return nil, warren.LimitError("subrequests", inv.subLimit, "make fewer fetch() and RPC calls per request (batch them), or raise the subRequests limit")
	}
	return inv, nil
}

// async runs work on its own goroutine and settles the JavaScript promise
// with its result on the loop. It returns the async id that callOpAsync awaits.
func (in *Instance) async(inv *invocation, work func(ctx context.Context) (string, error)) int {
	in.nextID++
	id := in.nextID
	in.asyncOwner[id] = inv
	go func() {
		var v string
		var err error
		func() {
			// The work runs Go code on data the isolate chose; a bug there
			// must fail this call, not the process.
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("internal error: %v", p)
				}
			}()
			v, err = work(inv.ctx)
		}()
		in.post(func() {
			owner, ok := in.asyncOwner[id]
			delete(in.asyncOwner, id)
			if !ok || owner.done || in.broken.Load() != nil {
				return
			}
			in.current = owner
			var we *warren.Error
			if errors.As(err, &we) && (we.Code == warren.CodeLimit || we.Code == warren.CodeTooLarge) {
				owner.limitErr = we // as for an operation refused by a limit (op)
			}
			var callErr error
			if err != nil {
				_, callErr = in.dispatch.Call("settle", id, false, errorJSON(err))
			} else {
				_, callErr = in.dispatch.Call("settle", id, true, v)
			}
			if callErr != nil {
				in.uncaught(owner, callErr)
			}
		})
	}()
	return id
}

func opFetch(in *Instance, args []any) (any, error) {
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	text, err := webapi.ArgString(args, 0)
	if err != nil {
		return nil, err
	}
	ob := in.cfg.Outbound
	if ob == nil || ob.Deny || (ob.Via == nil && ob.Direct == nil) {
		var r jsRequest
		_ = json.Unmarshal([]byte(text), &r)
		return nil, &warren.Error{Code: warren.CodeEgress, Message: fmt.Sprintf("fetch(%q) was refused: this Worker has no outbound network access (globalOutbound is null)", r.URL), Hint: "outbound requests must go through a binding in env, or the operator must allow egress for this Worker"}
	}
	f := ob.Direct
	if ob.Via != nil {
		f = ob.Via
	}
	return in.fetchVia(inv, f, text, false), nil
}

// sendFetch sends the request in args[i] (its JSON form) to f as one of the
// current invocation's subrequests; see fetchVia.
func (in *Instance) sendFetch(f Fetcher, args []any, i int, text bool) (any, error) {
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	req, err := webapi.ArgString(args, i)
	if err != nil {
		return nil, err
	}
	return in.fetchVia(inv, f, req, text), nil
}

// fetchVia sends the request (its JSON form) to f on its own goroutine and
// settles the JavaScript promise with the response; it returns the async id.
// With text, a UTF-8 body with a Content-Type crosses back as text.
func (in *Instance) fetchVia(inv *invocation, f Fetcher, request string, text bool) int {
	return in.async(inv, func(ctx context.Context) (string, error) {
		req, err := requestFromJS(ctx, request)
		if err != nil {
			return "", err
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil {
			return "", err
		}
		return in.encodeResponse(resp, req.URL.String(), text)
	})
}

func requestFromJS(ctx context.Context, text string) (*http.Request, error) {
	var r jsRequest
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, fmt.Errorf("bad request from the Worker: %w", err)
	}
	var body io.Reader
	if r.Body != nil {
		b, err := base64.StdEncoding.DecodeString(*r.Body)
		if err != nil {
			return nil, err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("bad request from the Worker: %w", err)
	}
	for _, h := range r.Headers {
		req.Header.Add(h[0], h[1])
	}
	return req, nil
}

// encodeResponse reads a subrequest's response whole and gives its JSON
// form. The body is bounded by the response body limit, and the bodies an
// isolate holds in Go at once (read, not yet handed to JavaScript, where the
// memory limit counts them) by its memory limit.
func (in *Instance) encodeResponse(resp *http.Response, url string, text bool) (string, error) {
	if resp == nil {
		return "", errors.New("no response")
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	defer resp.Body.Close()
	max := in.limits.ResponseBodyBytes
	b, err := in.readBuffered(resp.Body, max)
	if err != nil {
		return "", err
	}
	defer in.buffered.Add(-int64(len(b)))
	r := jsResponse{Status: resp.StatusCode, URL: url}
	if len(resp.Status) > 4 {
		r.StatusText = resp.Status[4:]
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			r.Headers = append(r.Headers, [2]string{k, v})
		}
	}
	if text && resp.Header.Get("Content-Type") != "" && utf8.Valid(b) {
		s := string(b)
		r.Text = &s
	} else {
		s := base64.StdEncoding.EncodeToString(b)
		r.Body = &s
	}
	out, err := json.Marshal(r)
	return string(out), err
}

// readBuffered reads a subrequest's body whole, at most max bytes, counting
// what it holds in in.buffered; the caller subtracts len of the result when
// done with it.
func (in *Instance) readBuffered(body io.Reader, max int64) ([]byte, error) {
	return in.readHeld(body, max,
		func() error {
			return &warren.Error{Code: warren.CodeTooLarge, Limit: "response body", Message: fmt.Sprintf("the response body is larger than the limit of %s", warren.Bytes(max)), Hint: "fetch less data (use Range requests or paging), or raise the responseBodyBytes limit"}
		},
		func() error {
			return warren.LimitError("memory", warren.Bytes(in.limits.MemoryBytes), "the Worker's subrequests in flight hold more response data than its memory limit; fetch fewer or smaller responses at once, or stream them")
		},
		func(err error) error { return fmt.Errorf("reading the response body: %w", err) })
}

// readHeld reads body whole, at most max bytes (tooLarge past it), counting
// every byte it holds in in.buffered against the isolate's memory limit
// (overBudget past it); a read error is given to readErr. The buffer grows
// as io.ReadAll's does, so a small body costs a small buffer.
func (in *Instance) readHeld(body io.Reader, max int64, tooLarge, overBudget func() error, readErr func(error) error) ([]byte, error) {
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			if int64(len(buf)+n) > max {
				in.buffered.Add(-int64(len(buf)))
				return nil, tooLarge()
			}
			if in.buffered.Add(int64(n)) > in.limits.MemoryBytes {
				in.buffered.Add(-int64(len(buf) + n))
				return nil, overBudget()
			}
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			in.buffered.Add(-int64(len(buf)))
			return nil, readErr(err)
		}
	}
}
