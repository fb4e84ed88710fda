package worker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/js"
	"github.com/warrenhq/warren/webapi"
)

// host serves the isolate's host operations. It runs on the loop goroutine,
// inside a turn. Every argument comes from untrusted code and is checked.
func (in *Instance) host(op string, args []any) (any, error) {
	r, err := in.hostOp(op, args)
	var we *warren.Error
	if err != nil && errors.As(err, &we) && (we.Code == warren.CodeLimit || we.Code == warren.CodeTooLarge || we.Code == warren.CodeEgress) && in.current != nil {
		in.current.limitErr = we
	}
	return r, err
}

func (in *Instance) hostOp(op string, args []any) (any, error) {
	if r, ok, err := in.objectOp(op, args); ok {
		return r, err
	}
	switch op {
	case "log":
		level, _ := webapi.ArgString(args, 0)
		msg, _ := webapi.ArgString(args, 1)
		switch level {
		case "log", "info", "warn", "error", "debug", "exception":
		default:
			level = "log"
		}
		in.log(level, msg)
		return nil, nil
	case "now":
		return float64(time.Since(in.born).Microseconds()) / 1000, nil
	case "respond":
		return nil, in.opRespond(args)
	case "chunk":
		return in.opChunk(args)
	case "end":
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
		inv.stream.finish(nil)
		return nil, nil
	case "return":
		inv, err := in.argInv(args, 0)
		if err != nil {
			return nil, err
		}
		if inv.kind != "call" || inv.answered {
			return nil, errors.New("this invocation cannot return an RPC result")
		}
		inv.answered = true
		text, _ := webapi.ArgString(args, 1)
		v, err := clone.Decode(text)
		if err != nil {
			in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeException, Message: "the RPC result could not be read: " + err.Error()}})
			return nil, nil
		}
		in.gate(inv, invResult{value: in.resolveCaps(v)})
		return nil, nil
	case "fail":
		inv, err := in.argInv(args, 0)
		if err != nil {
			return nil, err
		}
		text, _ := webapi.ArgString(args, 1)
		var info struct{ Name, Message, Stack string }
		_ = json.Unmarshal([]byte(text), &info)
		je := &js.Error{Name: info.Name, Message: info.Message, Stack: info.Stack}
		if inv.limitErr != nil && strings.Contains(info.Message, inv.limitErr.Message) {
			in.finish(inv, invResult{err: inv.limitErr})
			return nil, nil
		}
		e := in.exceptionError(je, "")
		if le := in.limitFromException(je); le != nil {
			in.breakWith(le)
			return nil, nil
		}
		if e.Code == warren.CodeException {
			e.JSMessage = info.Message
			e.Message = fmt.Sprintf("%s: %s", info.Name, in.prog.MapStack(info.Message))
			if at := firstAppFrame(e.Stack); at != "" {
				e.Message += " (at " + at + ")"
			}
			in.log("exception", fmt.Sprintf("Uncaught %s: %s\n%s", info.Name, info.Message, info.Stack))
		}
		in.finish(inv, invResult{err: e})
		return nil, nil
	case "done":
		inv, err := in.argInv(args, 0)
		if err != nil {
			return nil, err
		}
		inv.done = true
		if inv.settled {
			in.complete(inv)
		}
		return nil, nil
	case "timer.set":
		return in.opTimerSet(args)
	case "timer.clear":
		id, err := webapi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		in.clearTimer(id)
		return nil, nil
	case "fetch":
		return in.opFetch(args)
	case "cap.fetch":
		return in.opCapFetch(args)
	case "cap.call":
		return in.opCapCall(args)
	case "loader.lookup":
		return in.opLoaderLookup(args)
	case "loader.put":
		return in.opLoaderPut(args)
	case "self.namespace":
		class, _ := webapi.ArgString(args, 0)
		ns, ok := in.cfg.Namespaces[class]
		if !ok {
			return nil, nil
		}
		id, _ := in.capID(ns)
		return id.(map[string]any)["id"], nil
	case "self.cap":
		ep, _ := webapi.ArgString(args, 0)
		var props any
		if s, _ := webapi.ArgString(args, 1); s != "" {
			p, err := clone.Decode(s)
			if err != nil {
				return nil, err
			}
			props = in.resolveCaps(p)
		}
		var target Entrypoint
		if in.cfg.Self != nil {
			target = in.cfg.Self(ep, props)
		} else {
			target = &selfEntrypoint{in: in, name: ep, opts: Invoke{Props: props}}
		}
		id, _ := in.capID(target)
		return id.(map[string]any)["id"], nil
	case "stub.fetch":
		return in.opStubFetch(args)
	case "stub.call":
		return in.opStubCall(args)
	}
	r, err, ok := webapi.Op(op, args)
	if !ok {
		return nil, fmt.Errorf("unknown host operation %q", op)
	}
	return r, err
}

func (in *Instance) argInv(args []any, i int) (*invocation, error) {
	id, err := webapi.ArgInt(args, i)
	if err != nil {
		return nil, err
	}
	inv, ok := in.invs[id]
	if !ok {
		return nil, errors.New("this request has already finished")
	}
	in.current = inv
	return inv, nil
}

// hopByHop are headers a Worker's response may not set: the HTTP server
// frames the response itself.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Content-Length": true,
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
		if hopByHop[k] {
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

// argStatus returns args[i] as an HTTP status: an integral number.
func argStatus(args []any, i int) (int, bool) {
	if i >= len(args) {
		return 0, false
	}
	switch x := args[i].(type) {
	case int:
		return x, true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case float64:
		if x != math.Trunc(x) || x < -1<<31 || x > 1<<31 {
			return 0, false
		}
		return int(x), true
	}
	return 0, false
}

// argOr returns args[i] as a string; null and undefined give def.
func argOr(args []any, i int, def string) (string, bool) {
	if i >= len(args) {
		return def, true
	}
	switch x := args[i].(type) {
	case string:
		return x, true
	case nil, js.Undefined:
		return def, true
	}
	return "", false
}

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
		// from another isolate's wire) is checked here, because the
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

// uncaught handles an exception that escaped a callback (a timer, a settle).
func (in *Instance) uncaught(inv *invocation, err error) {
	if le := in.limitFromException(err); le != nil {
		in.breakWith(le)
		return
	}
	e := in.exceptionError(err, "in a callback")
	in.log("exception", e.Message+"\n"+e.Stack)
	if inv != nil && !inv.settled {
		in.finish(inv, invResult{err: e})
	}
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
// with its result on the loop. It returns the async id that hostAsync awaits.
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

func errorJSON(err error) string {
	info := map[string]string{"name": "Error", "message": err.Error()}
	var we *warren.Error
	var ce *clone.JSError
	switch {
	case errors.As(err, &ce):
		info["name"], info["message"] = ce.Name, ce.Message
		if ce.Stack != "" {
			info["remoteStack"] = ce.Stack
		}
	case errors.As(err, &we):
		if we.Name != "" {
			info["name"] = we.Name
		}
		info["message"] = we.Error()
		if we.JSMessage != "" {
			info["message"] = we.JSMessage
		}
		if we.Stack != "" {
			info["remoteStack"] = we.Stack
		}
	}
	b, _ := json.Marshal(info)
	return string(b)
}

func (in *Instance) opFetch(args []any) (any, error) {
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	wire, err := webapi.ArgString(args, 0)
	if err != nil {
		return nil, err
	}
	ob := in.cfg.Outbound
	if ob == nil || ob.Deny || (ob.Via == nil && ob.Direct == nil) {
		var w wireRequest
		_ = json.Unmarshal([]byte(wire), &w)
		return nil, &warren.Error{Code: warren.CodeEgress, Message: fmt.Sprintf("fetch(%q) was refused: this Worker has no outbound network access (globalOutbound is null)", w.URL), Hint: "outbound requests must go through a binding in env, or the operator must allow egress for this Worker"}
	}
	f := ob.Direct
	if ob.Via != nil {
		f = ob.Via
	}
	return in.fetchVia(inv, f, wire), nil
}

// fetchVia sends the wire request to f on its own goroutine and settles the
// JavaScript promise with the wire response; it returns the async id.
func (in *Instance) fetchVia(inv *invocation, f Fetcher, wire string) int {
	max := in.limits.ResponseBodyBytes
	return in.async(inv, func(ctx context.Context) (string, error) {
		req, err := wireToRequest(ctx, wire)
		if err != nil {
			return "", err
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil {
			return "", err
		}
		return responseToWire(resp, max, req.URL.String())
	})
}

// ---- capabilities ----

// capID registers a capability and returns its wire form {id, kind}.
func (in *Instance) capID(v any) (any, bool) {
	var kind string
	switch v.(type) {
	case Namespace:
		kind = "namespace"
	case Loader:
		kind = "loader"
	case WorkerStub:
		kind = "worker"
	case Fetcher, Target:
		kind = "service"
	default:
		return nil, false
	}
	// The same capability gets the same id, so an isolate that asks for it
	// on every request does not grow its table.
	comparable := reflect.TypeOf(v).Comparable()
	if comparable {
		if id, ok := in.capIDs[v]; ok {
			return map[string]any{"id": id, "kind": kind}, true
		}
	}
	in.nextID++
	id := in.nextID
	in.caps[id] = v
	if comparable {
		if in.capIDs == nil {
			in.capIDs = map[any]int{}
		}
		in.capIDs[v] = id
	}
	return map[string]any{"id": id, "kind": kind}, true
}

func (in *Instance) argCap(args []any, i int) (any, error) {
	id, err := webapi.ArgInt(args, i)
	if err != nil {
		return nil, err
	}
	c, ok := in.caps[id]
	if !ok {
		return nil, errors.New("unknown binding")
	}
	return c, nil
}

// resolveCaps replaces capability references in a decoded value with the Go
// capabilities they name.
func (in *Instance) resolveCaps(v any) any {
	switch x := v.(type) {
	case clone.Cap:
		id := 0
		switch n := x.ID.(type) {
		case float64:
			id = int(n)
		case map[string]any:
			f, _ := n["id"].(float64)
			id = int(f)
		}
		if c, ok := in.caps[id]; ok {
			return c
		}
		return nil
	case []any:
		for i := range x {
			x[i] = in.resolveCaps(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = in.resolveCaps(x[k])
		}
	}
	return v
}

func (in *Instance) opCapFetch(args []any) (any, error) {
	c, err := in.argCap(args, 0)
	if err != nil {
		return nil, err
	}
	f, ok := c.(Fetcher)
	if !ok {
		return nil, errors.New("this binding does not accept fetch()")
	}
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	wire, err := webapi.ArgString(args, 1)
	if err != nil {
		return nil, err
	}
	return in.fetchVia(inv, f, wire), nil
}

func (in *Instance) opCapCall(args []any) (any, error) {
	c, err := in.argCap(args, 0)
	if err != nil {
		return nil, err
	}
	t, ok := c.(Target)
	if !ok {
		return nil, errors.New("this binding has no RPC methods")
	}
	method, err := webapi.ArgString(args, 1)
	if err != nil {
		return nil, err
	}
	return in.call(t, method, args, 2)
}

func (in *Instance) call(t Target, method string, args []any, at int) (any, error) {
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	argsText, err := webapi.ArgString(args, at)
	if err != nil {
		return nil, err
	}
	decoded, err := clone.Decode(argsText)
	if err != nil {
		return nil, err
	}
	list, _ := in.resolveCaps(decoded).([]any)
	return in.async(inv, func(ctx context.Context) (string, error) {
		r, err := t.Call(ctx, method, list)
		if err != nil {
			return "", err
		}
		// Capabilities in results are registered on the loop; encode without
		// them here and let the JavaScript side see plain values.
		return clone.Encode(r, nil)
	}), nil
}

func (in *Instance) opLoaderLookup(args []any) (any, error) {
	c, err := in.argCap(args, 0)
	if err != nil {
		return nil, err
	}
	l, ok := c.(Loader)
	if !ok {
		return nil, errors.New("not a loader")
	}
	name, err := webapi.ArgString(args, 1)
	if err != nil {
		return nil, err
	}
	stub, ok := l.Lookup(name)
	if !ok {
		return nil, nil
	}
	id, _ := in.capID(stub)
	return id.(map[string]any)["id"], nil
}

func (in *Instance) opLoaderPut(args []any) (any, error) {
	c, err := in.argCap(args, 0)
	if err != nil {
		return nil, err
	}
	l, ok := c.(Loader)
	if !ok {
		return nil, errors.New("not a loader")
	}
	name, _ := args[1].(string)
	text, err := webapi.ArgString(args, 2)
	if err != nil {
		return nil, err
	}
	decoded, err := clone.Decode(text)
	if err != nil {
		return nil, err
	}
	lc, err := in.loadCode(in.resolveCaps(decoded))
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if in.current != nil {
		ctx = in.current.ctx
	}
	stub, err := l.Load(ctx, name, lc)
	if err != nil {
		return nil, err
	}
	id, _ := in.capID(stub)
	return id.(map[string]any)["id"], nil
}

// loadCode converts the value a getCode callback returned into LoadCode.
func (in *Instance) loadCode(v any) (*LoadCode, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: "the Worker Loader callback must return an object {compatibilityDate, mainModule, modules}"}
	}
	code := &warren.WorkerCode{Modules: map[string]warren.Module{}}
	code.CompatibilityDate, _ = obj["compatibilityDate"].(string)
	code.MainModule, _ = obj["mainModule"].(string)
	mods, ok := obj["modules"].(map[string]any)
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: "WorkerCode.modules must be an object mapping module names to code"}
	}
	for name, m := range mods {
		switch x := m.(type) {
		case string:
			code.Modules[name] = warren.Module{Kind: warren.ModuleESM, Text: x}
		case map[string]any:
			if len(x) != 1 {
				return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q must have exactly one of the keys js, cjs, text, data, json", name)}
			}
			for k, val := range x {
				mod := warren.Module{Kind: warren.ModuleKind(k)}
				switch k {
				case "js", "cjs", "text":
					s, ok := val.(string)
					if !ok {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: %s must be a string", name, k)}
					}
					mod.Text = s
				case "data":
					b, ok := val.(clone.Bytes)
					if !ok {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: data must be an ArrayBuffer or typed array", name)}
					}
					mod.Data = b.Data
				case "json":
					j, err := json.Marshal(plain(val))
					if err != nil {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: json is not JSON-serialisable: %v", name, err)}
					}
					mod.Text = string(j)
				case "wasm", "py":
					return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: %s modules are not supported by Warren", name, k)}
				default:
					return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: unknown key %q; use js, cjs, text, data or json", name, k)}
				}
				code.Modules[name] = mod
			}
		default:
			return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q must be a string or an object", name)}
		}
	}
	lc := &LoadCode{Code: code}
	if env, ok := obj["env"].(map[string]any); ok {
		lc.Env = env
	}
	if g, present := obj["globalOutbound"]; present {
		switch x := g.(type) {
		case nil:
			lc.Outbound = DenyAll
		case Fetcher:
			lc.Outbound = &Outbound{Via: x}
		case clone.Undefined:
		default:
			return nil, &warren.Error{Code: warren.CodeBadCode, Message: "globalOutbound must be null or a service binding (a stub with fetch)"}
		}
	}
	if lim, ok := obj["limits"].(map[string]any); ok {
		lc.Limits = limitsFromJS(lim)
	}
	return lc, nil
}

func limitsFromJS(m map[string]any) warren.Limits {
	var l warren.Limits
	if f, ok := m["cpuMs"].(float64); ok && f > 0 {
		l.CPU = time.Duration(f * float64(time.Millisecond))
	}
	if f, ok := m["subRequests"].(float64); ok && f > 0 {
		l.Subrequests = int(f)
	}
	if f, ok := m["wallMs"].(float64); ok && f > 0 {
		l.Wall = time.Duration(f * float64(time.Millisecond))
	}
	if f, ok := m["memoryMb"].(float64); ok && f > 0 {
		l.MemoryBytes = int64(f) << 20
	}
	return l
}

// plain turns decoded clone values back into JSON-able Go values.
func plain(v any) any {
	switch x := v.(type) {
	case clone.Undefined:
		return nil
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k := range x {
			out[k] = plain(x[k])
		}
		return out
	}
	return v
}

func (in *Instance) stubEntrypoint(args []any) (Entrypoint, error) {
	c, err := in.argCap(args, 0)
	if err != nil {
		return nil, err
	}
	ws, ok := c.(WorkerStub)
	if !ok {
		return nil, errors.New("not a Worker stub")
	}
	ep, _ := args[1].(string)
	var props any
	if s, ok := args[2].(string); ok && s != "" {
		p, err := clone.Decode(s)
		if err != nil {
			return nil, err
		}
		props = in.resolveCaps(p)
	}
	var lim warren.Limits
	if s, ok := args[3].(string); ok && s != "" {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			lim = limitsFromJS(m)
		}
	}
	return ws.Entrypoint(ep, props, lim), nil
}

func (in *Instance) opStubFetch(args []any) (any, error) {
	if len(args) < 5 {
		return nil, errors.New("stub.fetch: missing arguments")
	}
	ep, err := in.stubEntrypoint(args)
	if err != nil {
		return nil, err
	}
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	wire, err := webapi.ArgString(args, 4)
	if err != nil {
		return nil, err
	}
	return in.fetchVia(inv, ep, wire), nil
}

func (in *Instance) opStubCall(args []any) (any, error) {
	if len(args) < 6 {
		return nil, errors.New("stub.call: missing arguments")
	}
	ep, err := in.stubEntrypoint(args)
	if err != nil {
		return nil, err
	}
	method, err := webapi.ArgString(args, 4)
	if err != nil {
		return nil, err
	}
	return in.call(ep, method, args, 5)
}

// ---- streamed response bodies ----

// bodyStream is a response body that the isolate writes in chunks while
// the HTTP side reads it.
type bodyStream struct {
	mu     sync.Mutex
	cond   *sync.Cond
	chunks [][]byte
	total  int64
	max    int64
	err    error
	eof    bool
	closed bool
}

func newBodyStream(max int64) *bodyStream {
	s := &bodyStream{max: max}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// write queues a chunk; false tells the writer to stop (reader gone, limit).
func (s *bodyStream) write(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.eof {
		return false
	}
	s.total += int64(len(b))
	if s.total > s.max {
		s.err = tooLargeResponse(s.max)
		s.eof = true
		s.cond.Broadcast()
		return false
	}
	s.chunks = append(s.chunks, b)
	s.cond.Broadcast()
	return true
}

func (s *bodyStream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eof {
		return
	}
	s.eof = true
	s.err = err
	s.cond.Broadcast()
}

// Read implements io.Reader.
func (s *bodyStream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) == 0 && !s.eof && !s.closed {
		s.cond.Wait()
	}
	if len(s.chunks) > 0 {
		n := copy(p, s.chunks[0])
		if n == len(s.chunks[0]) {
			s.chunks = s.chunks[1:]
		} else {
			s.chunks[0] = s.chunks[0][n:]
		}
		return n, nil
	}
	if s.closed {
		return 0, io.ErrClosedPipe
	}
	if s.err != nil {
		return 0, s.err
	}
	return 0, io.EOF
}

// Close implements io.Closer; the writer stops at its next chunk.
func (s *bodyStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.chunks = nil
	s.cond.Broadcast()
	return nil
}

// selfEntrypoint is an entrypoint of the Instance itself (ctx.exports).
type selfEntrypoint struct {
	in   *Instance
	name string
	opts Invoke
}

func (s *selfEntrypoint) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	return s.in.Fetch(ctx, s.name, s.opts, req)
}

func (s *selfEntrypoint) Call(ctx context.Context, method string, args []any) (any, error) {
	return s.in.Call(ctx, s.name, s.opts, method, args)
}
