package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// One-shot runs (POST /api/v1/run) go to a host too. The code travels in
// front of the request's body (a 4-byte length, then the WorkerCode's
// JSON); the request's method, URL and headers are the wire request's. The
// host calls back with the run's id, a random name the control plane keeps
// only while the run lasts, for its logs (to the caller's sink) and its
// outbound fetches (under the run's egress policy).

const (
	hdrRun    = "X-Warren-Run"    // control → host: the run's id
	hdrLimits = "X-Warren-Limits" // control → host: the run's warren.Limits (encodeLimits)
	hdrEgress = "X-Warren-Egress" // control → host: "1" when the run may fetch (through the control plane)
	runPrefix = "run:"            // the "app" of a run's calls back
)

// run is a one-shot run in flight, as the control plane knows it.
type run struct {
	sink worker.LogSink
	out  *worker.Outbound
	slot *slot // the host it was sent to
}

// runs are the runs in flight, by id.
type runs struct {
	mu sync.Mutex
	m  map[string]*run
}

func (rs *runs) add(r *run) string {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	rs.mu.Lock()
	if rs.m == nil {
		rs.m = map[string]*run{}
	}
	rs.m[id] = r
	rs.mu.Unlock()
	return id
}

func (rs *runs) get(id string) *run {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.m[id]
}

// on reports whether run id is in flight on slot s.
func (rs *runs) on(id string, s *slot) bool {
	r := rs.get(id)
	return r != nil && r.slot == s
}

func (rs *runs) remove(id string) {
	rs.mu.Lock()
	delete(rs.m, id)
	rs.mu.Unlock()
}

// RunOnce loads lc as a one-shot Dynamic Worker in a host of runs (never
// one that holds apps: PoolOptions.RunHosts), sends it req and returns its
// response; its logs go to sink. The run hosts take runs in turn.
func (p *Pool) RunOnce(ctx context.Context, lc *worker.LoadCode, req *http.Request, sink worker.LogSink) (*http.Response, error) {
	if len(p.runSlots) == 0 {
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "this server runs no one-shot code (it has no host for runs)", Hint: "the operator enables runs with warren serve --run-api=token"}
	}
	code, err := json.Marshal(lc.Code)
	if err != nil {
		return nil, err
	}
	out := lc.Outbound
	if out == nil {
		out = worker.DenyAll
	}
	n := p.nextRun.Add(1)
	s := p.runSlots[int(n%uint64(len(p.runSlots)))]
	id := p.runs.add(&run{sink: sink, out: out, slot: s})
	fwd := forward(ctx, req, kindRun)
	fwd.Header.Set(hdrRun, id)
	fwd.Header.Set(hdrLimits, encodeLimits(lc.Limits))
	fwd.Header.Del(hdrEgress) // whatever the client sent
	if mayFetch(out) {
		fwd.Header.Set(hdrEgress, "1")
	}
	prefix := binary.BigEndian.AppendUint32(nil, uint32(len(code)))
	readers := []io.Reader{bytes.NewReader(prefix), bytes.NewReader(code)}
	if req.Body != nil && req.Body != http.NoBody {
		readers = append(readers, req.Body)
	}
	fwd.Body = io.NopCloser(io.MultiReader(readers...))
	fwd.ContentLength = -1
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		fwd.ContentLength = int64(len(prefix) + len(code))
	} else if req.ContentLength > 0 {
		fwd.ContentLength = int64(len(prefix)+len(code)) + req.ContentLength
	}
	resp, sig, err := p.doSlot(ctx, s, fwd)
	if err != nil {
		p.runs.remove(id)
		return nil, err
	}
	if isErr(sig) {
		defer resp.Body.Close()
		p.runs.remove(id)
		return nil, readErr(resp)
	}
	if err := badStatus(resp); err != nil {
		p.runs.remove(id)
		return nil, err
	}
	resp.Body = &hostBody{ReadCloser: resp.Body, what: "the run's response", end: func() { p.runs.remove(id) }}
	return resp, nil
}

// runFetch makes a run's outbound fetch under the run's policy.
func (p *Pool) runFetch(ctx context.Context, id string, req *http.Request) (*http.Response, error) {
	r := p.runs.get(id)
	if r == nil {
		return nil, &warren.Error{Code: warren.CodeEgress, Message: "outbound fetch from a run that has ended"}
	}
	return outboundFetch(ctx, r.out, req)
}

// mayFetch reports whether the policy lets code fetch at all.
func mayFetch(o *worker.Outbound) bool {
	return o != nil && !o.Deny && (o.Via != nil || o.Direct != nil)
}

// outboundFetch makes req under the egress policy o, as the worker
// package does in process.
func outboundFetch(ctx context.Context, o *worker.Outbound, req *http.Request) (*http.Response, error) {
	switch {
	case !mayFetch(o):
		return nil, &warren.Error{Code: warren.CodeEgress, Message: fmt.Sprintf("fetch(%q) was refused: this Worker has no outbound network access (globalOutbound is null)", req.URL), Hint: "the operator allows egress with warren serve --egress public"}
	case o.Via != nil:
		return o.Via.Fetch(ctx, req)
	}
	return o.Direct.Fetch(ctx, req)
}

// runLog passes a run's log line to its caller.
func (p *Pool) runLog(id string, e worker.LogEntry) {
	if r := p.runs.get(id); r != nil && r.sink != nil {
		r.sink(e)
	}
}

// run serves a one-shot run in the host.
func (c *child) run(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(hdrRun)
	limits, err := decodeLimits(r.Header.Get(hdrLimits))
	if err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeInternal, Message: "bad run limits from the control plane: " + err.Error()})
		return
	}
	var n [4]byte
	if _, err := io.ReadFull(r.Body, n[:]); err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: "run: reading the code: " + err.Error()})
		return
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > 4*warren.MaxCodeSize {
		writeErr(w, &warren.Error{Code: warren.CodeTooLarge, Message: "run: the code is too large"})
		return
	}
	codeJSON := make([]byte, size)
	if _, err := io.ReadFull(r.Body, codeJSON); err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: "run: reading the code: " + err.Error()})
		return
	}
	var code warren.WorkerCode
	if err := json.Unmarshal(codeJSON, &code); err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: "run: the code does not decode: " + err.Error()})
		return
	}
	lc := &worker.LoadCode{Code: &code, Limits: limits, Outbound: worker.DenyAll}
	if r.Header.Get(hdrEgress) == "1" {
		lc.Outbound = &worker.Outbound{Via: &viaControl{c: c, app: runPrefix + id}}
	}
	stub := c.loader.LoadWithLogs(lc, func(e worker.LogEntry) { c.log(runPrefix+id, e) })
	defer stub.Discard()
	req := appRequest(r, hdrRun, hdrLimits, hdrEgress)
	if r.ContentLength >= 0 {
		req.ContentLength = max(r.ContentLength-int64(len(n)+len(codeJSON)), 0)
	}
	if req.ContentLength == 0 {
		req.Body = http.NoBody
	}
	resp, err := stub.Fetch(r.Context(), req)
	reply(w, resp, err)
}
