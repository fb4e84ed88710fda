package worker

// Invocations: a fetch or an RPC call delivered to the isolate, from its
// start on the loop to its result and the end of its waitUntil work.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/js"
	"github.com/warrenhq/warren/webapi"
)

type invocation struct {
	id      int
	ctx     context.Context
	cancel  context.CancelFunc
	kind    string // "fetch" or "call"
	cpuLeft time.Duration
	subreqs int
	// answered is set once the invocation sent its response or RPC result.
	answered bool
	// limitErr is the limit a host operation refused with; when the
	// exception it threw escapes, the invocation fails with this error.
	limitErr *warren.Error
	// Per-invocation limits (the instance's, lowered by Invoke.Limits).
	cpuLimit  time.Duration
	wallLimit time.Duration
	subLimit  int
	wall      *time.Timer
	result    chan invResult
	settled   bool // result delivered
	done      bool // all work finished
	stream    *bodyStream
	logs      int
	usage     *Usage // charged with CPU and subrequests, when the caller asked
}

type invResult struct {
	resp  *http.Response
	value any
	err   error
}

// ErrClosed is returned by Fetch and Call on an Instance that was closed or
// retired; the owner should get a fresh Instance and retry.
var ErrClosed = &warren.Error{Code: warren.CodeUnavailable, Message: "the isolate is closed", Hint: "retry the request"}

// Invoke holds per-invocation options.
type Invoke struct {
	// Props is what the entrypoint sees as ctx.props.
	Props any
	// Limits lower the instance's CPU, wall-time and subrequest limits for
	// this invocation (other fields are ignored).
	Limits warren.Limits
}

// begin makes an invocation of kind ("fetch" or "call") and gives the
// props' value format.
func (in *Instance) begin(ctx context.Context, kind string, opts Invoke) (*invocation, string, error) {
	propsText, err := clone.Encode(opts.Props, nil)
	if err != nil {
		return nil, "", &warren.Error{Code: warren.CodeBadRequest, Message: "props cannot be cloned: " + err.Error()}
	}
	if b := in.broken.Load(); b != nil {
		return nil, "", b
	}
	lim := in.limits.Min(opts.Limits)
	cctx, cancel := context.WithCancel(ctx)
	inv := &invocation{ctx: cctx, cancel: cancel, kind: kind, cpuLeft: lim.CPU, cpuLimit: lim.CPU, wallLimit: lim.Wall, subLimit: lim.Subrequests, result: make(chan invResult, 1), usage: usageFrom(ctx)}
	return inv, propsText, nil
}

// deliver posts the task that starts inv by running f, unless the isolate
// is broken by then; false if the isolate is closed.
func (in *Instance) deliver(inv *invocation, f func()) bool {
	return in.deliverThen(inv, f, nil)
}

// deliverThen is deliver, calling then (if not nil) once the task has run,
// whichever way it went.
func (in *Instance) deliverThen(inv *invocation, f func(), then func()) bool {
	return in.postTask(task{inv: inv, f: func() {
		if then != nil {
			defer then()
		}
		if b := in.broken.Load(); b != nil {
			in.finish(inv, invResult{err: b})
			return
		}
		f()
	}})
}

// start registers inv on the loop and arms its wall-time limit.
func (in *Instance) start(inv *invocation) {
	in.nextID++
	inv.id = in.nextID
	in.invs[inv.id] = inv
	in.current = inv
	inv.wall = time.AfterFunc(inv.wallLimit, func() {
		in.post(func() {
			in.finish(inv, invResult{err: warren.LimitError("wall time", inv.wallLimit, "the request waited too long (on a fetch, a timer, or a promise that never settles); make sure every promise settles, or raise the wall-time limit")})
		})
	})
}

// finish delivers a result (once) and, when the invocation has no more work,
// releases its resources.
func (in *Instance) finish(inv *invocation, r invResult) {
	if r.err == nil && inv.kind == "fetch" && r.resp == nil {
		r.err = &warren.Error{Code: warren.CodeException, Message: "the Worker finished without a response"}
	}
	if !inv.settled {
		inv.settled = true
		in.chargeSoFar(inv)
		inv.result <- r
	} else if r.err != nil && inv.stream != nil {
		inv.stream.finish(r.err)
	}
	if r.err != nil || inv.done {
		in.complete(inv)
	}
}

func (in *Instance) complete(inv *invocation) {
	inv.done = true
	if inv.stream != nil {
		inv.stream.finish(nil)
	}
	if inv.wall != nil {
		inv.wall.Stop()
	}
	inv.cancel()
	delete(in.invs, inv.id)
	for id, t := range in.timers {
		if t.owner == inv {
			in.clearTimer(id)
		}
	}
	if in.current == inv {
		in.current = nil
	}
}

// Fetch delivers an HTTP request to entrypoint (""/"default" for the
// default export) with props as ctx.props. The response body may still be
// streaming when Fetch returns; close it when done.
func (in *Instance) Fetch(ctx context.Context, entrypoint string, opts Invoke, req *http.Request) (*http.Response, error) {
	in.mu.Lock()
	closed := in.closed
	in.mu.Unlock()
	if closed {
		return nil, ErrClosed // before the body is read, so the caller can retry
	}
	args, err := in.fetchArgs(req)
	if err != nil {
		return nil, err
	}
	// The body's bytes count until JavaScript has them (or the request
	// ends before).
	var once sync.Once
	release := func() { once.Do(func() { in.buffered.Add(-args.held) }) }
	inv, propsText, err := in.begin(ctx, "fetch", opts)
	if err != nil {
		release()
		return nil, err
	}
	if !in.deliverThen(inv, func() {
		if _, err := in.dispatch.Call("fetch", inv.id, entrypoint, propsText, args.method, args.url, args.headers, args.body, args.bodyKind); err != nil {
			in.finish(inv, invResult{err: in.exceptionError(err, "")})
		}
	}, release) {
		release()
		if args.bodyKind == 0 || args.body == "" {
			return nil, ErrClosed // no body was consumed: the caller can retry
		}
		// The body is gone: this one cannot be retried transparently.
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the isolate closed while the request was being delivered", Hint: "retry the request"}
	}
	r := in.await(ctx, inv, "request")
	return r.resp, r.err
}

// Call invokes an RPC method on entrypoint with args (values as clone.Decode
// returns them).
func (in *Instance) Call(ctx context.Context, entrypoint string, opts Invoke, method string, args []any) (any, error) {
	inv, propsText, err := in.begin(ctx, "call", opts)
	if err != nil {
		return nil, err
	}
	if !in.deliver(inv, func() {
		argsText, err := clone.Encode(args, in.capRef)
		if err != nil {
			in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeBadRequest, Message: "arguments cannot be cloned: " + err.Error()}})
			return
		}
		if _, err := in.dispatch.Call("call", inv.id, entrypoint, propsText, method, argsText); err != nil {
			in.finish(inv, invResult{err: in.exceptionError(err, "")})
		}
	}) {
		return nil, ErrClosed
	}
	r := in.await(ctx, inv, "call")
	return r.value, r.err
}

// await waits for inv's result; what names it in the error when ctx ends
// first ("request", "call").
func (in *Instance) await(ctx context.Context, inv *invocation, what string) invResult {
	select {
	case r := <-inv.result:
		return r
	case <-ctx.Done():
		in.post(func() { in.finish(inv, invResult{err: ctx.Err()}) })
		return invResult{err: &warren.Error{Code: warren.CodeUnavailable, Message: "the " + what + " was cancelled: " + ctx.Err().Error()}}
	}
}

func init() {
	opsOf(map[string]opFunc{
		"return": opReturn,
		"fail":   opFail,
		"done":   opDone,
	})
}

// callContext is the context of work an operation does for the current
// invocation (cancelled with it), or the background outside one.
func (in *Instance) callContext() context.Context {
	if in.current != nil {
		return in.current.ctx
	}
	return context.Background()
}

// opReturn takes an RPC invocation's result: (inv, value in the clone format).
func opReturn(in *Instance, args []any) (any, error) {
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
}

// opFail ends an invocation with the exception its handler threw: (inv,
// {name, message, stack} as JSON).
func opFail(in *Instance, args []any) (any, error) {
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
}

// opDone says an invocation has no more work (its waitUntil promises
// settled).
func opDone(in *Instance, args []any) (any, error) {
	inv, err := in.argInv(args, 0)
	if err != nil {
		return nil, err
	}
	inv.done = true
	if inv.settled {
		in.complete(inv)
	}
	return nil, nil
}
