package webapi_test

import "testing"

// jsHelpers are prepended to stream and blob tests:
//
//	errName(promiseOrFn) resolves to the name of the error thrown/rejected, or "ok".
//	tick() lets every pending promise job and zero-delay timer run.
//	collect(readable) reads a stream to the end and returns its chunks.
const jsHelpers = `
const errName = async (x) => {
  try { await (typeof x === "function" ? x() : x); return "ok"; }
  catch (e) { return e === null || e === undefined ? String(e) : (e.name || String(e)); }
};
const tick = () => new Promise((r) => setTimeout(r, 0));
const collect = async (rs) => { const out = []; const r = rs.getReader(); for (;;) { const { done, value } = await r.read(); if (done) return out; out.push(value); } };
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
`

func expectStreams(t *testing.T, body string, want any) {
	t.Helper()
	expectJS(t, jsHelpers+body, want)
}

func TestReadableStreamEnqueueCloseRead(t *testing.T) {
	expectStreams(t, `
const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
const r = rs.getReader();
const out = [];
out.push(await r.read(), await r.read(), await r.read(), await r.read());
await r.closed;
return [rs.locked, out];`,
		[]any{true, []any{
			map[string]any{"value": "a", "done": false},
			map[string]any{"value": "b", "done": false},
			map[string]any{"done": true},
			map[string]any{"done": true},
		}})
}

func TestReadableStreamPullOnDemandAndHighWaterMark(t *testing.T) {
	expectStreams(t, `
let n = 0;
const sizes = [];
const rs = new ReadableStream({
  pull(c) { n++; c.enqueue(n); sizes.push(c.desiredSize); if (n === 5) c.close(); },
}, new CountQueuingStrategy({ highWaterMark: 3 }));
await tick();
const pulledBeforeRead = n;
const r = rs.getReader();
const got = [];
for (;;) { const { done, value } = await r.read(); if (done) break; got.push(value); }
return { pulledBeforeRead, sizes: sizes.slice(0, 3), got };`,
		map[string]any{"pulledBeforeRead": 3, "sizes": []int{2, 1, 0}, "got": []int{1, 2, 3, 4, 5}})
	// With highWaterMark 0, nothing is pulled until someone reads.
	expectStreams(t, `
let n = 0;
const rs = new ReadableStream({ pull(c) { n++; c.enqueue(n); } }, { highWaterMark: 0 });
await tick();
const before = n;
const { value } = await rs.getReader().read();
return [before, value];`, []int{0, 1})
}

func TestReadableStreamPromiseReturningPullIsNotReentered(t *testing.T) {
	expectStreams(t, `
let active = 0, maxActive = 0, n = 0;
const rs = new ReadableStream({
  async pull(c) {
    active++; maxActive = Math.max(maxActive, active);
    await tick();
    c.enqueue(++n);
    if (n === 4) c.close();
    active--;
  },
});
const r = rs.getReader();
const all = await Promise.all([r.read(), r.read(), r.read(), r.read(), r.read()]);
return { maxActive, values: all.map((x) => x.done ? "done" : x.value) };`,
		map[string]any{"maxActive": 1, "values": []any{1, 2, 3, 4, "done"}})
}

func TestReadableStreamLocking(t *testing.T) {
	expectStreams(t, `
const rs = new ReadableStream({ start(c) { c.enqueue(1); } });
const r = rs.getReader();
const res = {};
res.locked = rs.locked;
res.secondReader = await errName(() => rs.getReader());
res.ctorReader = await errName(() => new ReadableStreamDefaultReader(rs));
res.cancelLocked = await errName(rs.cancel());
res.pipeLocked = await errName(rs.pipeTo(new WritableStream()));
res.iterLocked = await errName(() => rs.values());
const pending = r.read(); // fulfilled with the queued chunk
r.releaseLock();
res.firstRead = (await pending).value;
res.unlocked = !rs.locked;
res.readReleased = await errName(r.read());
res.closedReleased = await errName(r.closed);
res.cancelReleased = await errName(r.cancel());
r.releaseLock(); // a second release is a no-op
const r2 = rs.getReader();
const p2 = r2.read();
r2.releaseLock();
res.pendingReadOnRelease = await errName(p2);
res.notAStream = await errName(() => ReadableStream.prototype.getReader.call({}));
return res;`,
		map[string]any{
			"locked": true, "secondReader": "TypeError", "ctorReader": "TypeError", "cancelLocked": "TypeError",
			"pipeLocked": "TypeError", "iterLocked": "TypeError", "firstRead": 1, "unlocked": true,
			"readReleased": "TypeError", "closedReleased": "TypeError", "cancelReleased": "TypeError",
			"pendingReadOnRelease": "TypeError", "notAStream": "TypeError",
		})
}

func TestReadableStreamControllerMisuse(t *testing.T) {
	expectStreams(t, `
let ctl;
const rs = new ReadableStream({ start(c) { ctl = c; } });
const res = {};
res.desired = ctl.desiredSize;
ctl.enqueue("x");
res.desiredAfter = ctl.desiredSize;
ctl.close();
res.enqueueAfterClose = await errName(() => ctl.enqueue("y"));
res.closeTwice = await errName(() => ctl.close());
const r = rs.getReader();
res.read1 = (await r.read()).value;
res.read2 = (await r.read()).done;
res.desiredClosed = ctl.desiredSize;
res.errorAfterClose = await errName(() => ctl.error(new Error("ignored")));
res.readAfterClose = (await r.read()).done;
res.illegal = await errName(() => new ReadableStreamDefaultController());
res.badType = await errName(() => new ReadableStream({ type: "nope" }));
res.badHWM = await errName(() => new ReadableStream({}, { highWaterMark: -1 }));
res.badPull = await errName(() => new ReadableStream({ pull: 5 }));
return res;`,
		map[string]any{
			"desired": 1, "desiredAfter": 0, "enqueueAfterClose": "TypeError", "closeTwice": "TypeError",
			"read1": "x", "read2": true, "desiredClosed": 0, "errorAfterClose": "ok", "readAfterClose": true,
			"illegal": "TypeError", "badType": "RangeError", "badHWM": "RangeError", "badPull": "TypeError",
		})
}

func TestReadableStreamErrors(t *testing.T) {
	expectStreams(t, `
let ctl;
const boom = new RangeError("boom");
const rs = new ReadableStream({ start(c) { ctl = c; c.enqueue(1); } });
const r = rs.getReader();
const pendingAfterQueue = r.read();
const pending = r.read();
ctl.error(boom);
const res = {};
res.first = (await pendingAfterQueue).value;
try { await pending; } catch (e) { res.pending = e === boom; }
try { await r.read(); } catch (e) { res.later = e === boom; }
try { await r.closed; } catch (e) { res.closed = e === boom; }
res.desired = ctl.desiredSize;
res.enqueueErrored = await errName(() => ctl.enqueue(2));
try { await rs.cancel(); } catch (e) { res.cancel = "x"; }
r.releaseLock();
try { await rs.cancel(); } catch (e) { res.cancel = e === boom; }
// start throwing propagates from the constructor; a rejected start or pull errors the stream.
res.startThrows = await errName(() => new ReadableStream({ start() { throw new SyntaxError("s"); } }));
const rs2 = new ReadableStream({ start() { return Promise.reject(new URIError("u")); } });
res.startRejects = await errName(rs2.getReader().read());
const rs3 = new ReadableStream({ pull() { throw new EvalError("p"); } });
res.pullThrows = await errName(rs3.getReader().read());
let sizeThrew;
const rs4 = new ReadableStream({ start(c) { try { c.enqueue("a"); } catch (e) { sizeThrew = e.name; } } }, { size() { throw new ReferenceError("size"); } });
res.sizeThrows = [sizeThrew, await errName(rs4.getReader().read())];
return res;`,
		map[string]any{
			"first": 1, "pending": true, "later": true, "closed": true, "desired": nil, "enqueueErrored": "TypeError",
			"cancel": true, "startThrows": "SyntaxError", "startRejects": "URIError", "pullThrows": "EvalError",
			"sizeThrows": []string{"ReferenceError", "ReferenceError"},
		})
}

func TestReadableStreamCancel(t *testing.T) {
	expectStreams(t, `
const log = [];
const rs = new ReadableStream({
  start(c) { c.enqueue("queued"); },
  pull() {},
  cancel(reason) { log.push("cancel:" + reason); return new Promise((r) => setTimeout(r, 1)).then(() => "ignored"); },
});
const r = rs.getReader();
await r.read();
const pending = r.read();
const result = await r.cancel("why");
const res = { log, result: result === undefined, pending: await pending, after: await r.read() };
await r.closed;
res.closedResolved = true;
res.cancelAgain = await errName(r.cancel("again"));
// A rejecting cancel rejects cancel().
const rs2 = new ReadableStream({ cancel() { throw new TypeError("nope"); } });
res.cancelThrows = await errName(rs2.cancel());
return res;`,
		map[string]any{
			"log": []string{"cancel:why"}, "result": true, "pending": map[string]any{"done": true},
			"after": map[string]any{"done": true}, "closedResolved": true, "cancelAgain": "ok", "cancelThrows": "TypeError",
		})
}

func TestReadableStreamTee(t *testing.T) {
	expectStreams(t, `
const rs = new ReadableStream({ start(c) { for (const x of ["a", "b", "c"]) c.enqueue(x); c.close(); } });
const [a, b] = rs.tee();
const res = { locked: rs.locked };
const [ra, rb] = await Promise.all([collect(a), collect(b)]);
res.a = ra; res.b = rb;
// Cancelling both branches cancels the source with both reasons.
let reason;
const src = new ReadableStream({ pull(c) { c.enqueue(1); }, cancel(r) { reason = r; } });
const [x, y] = src.tee();
// The first branch's cancel() settles only once both branches are cancelled.
let firstDone = false;
const xc = x.cancel("r1").then(() => { firstDone = true; });
await tick();
res.afterOne = [reason === undefined, firstDone];
await y.cancel("r2");
await xc;
res.reason = reason;
// An error in the source errors both branches.
let ctl;
const src2 = new ReadableStream({ start(c) { ctl = c; } });
const [p, q] = src2.tee();
const pr = p.getReader().read(), qr = q.getReader().read();
ctl.error(new RangeError("bad"));
res.errors = [await errName(pr), await errName(qr)];
return res;`,
		map[string]any{
			"locked": true, "a": []string{"a", "b", "c"}, "b": []string{"a", "b", "c"},
			"afterOne": []bool{true, false}, "reason": []string{"r1", "r2"}, "errors": []string{"RangeError", "RangeError"},
		})
}

func TestReadableStreamAsyncIteration(t *testing.T) {
	expectStreams(t, `
const res = {};
let cancelled = null;
const mk = () => { let i = 0; return new ReadableStream({ pull(c) { c.enqueue(++i); }, cancel(r) { cancelled = "cancel:" + r; } }); };
const rs = mk();
const seen = [];
for await (const v of rs) { seen.push(v); if (v === 3) break; }
res.seen = seen;
res.cancelled = cancelled;
res.unlocked = !rs.locked;
cancelled = null;
const rs2 = mk();
for await (const v of rs2.values({ preventCancel: true })) { if (v === 2) break; }
res.preventCancel = cancelled;
res.stillReadable = (await rs2.getReader().read()).value;
// Errors surface from the loop.
const rs3 = new ReadableStream({ start(c) { c.enqueue(1); c.error(new SyntaxError("x")); } });
res.loopError = await errName(async () => { for await (const v of rs3) {} });
res.hasAsyncIterator = typeof ReadableStream.prototype[Symbol.asyncIterator] === "function";
return res;`,
		map[string]any{
			"seen": []int{1, 2, 3}, "cancelled": "cancel:undefined", "unlocked": true,
			"preventCancel": nil, "stillReadable": 3, "loopError": "SyntaxError", "hasAsyncIterator": true,
		})
}

func TestReadableStreamFrom(t *testing.T) {
	expectStreams(t, `
const res = {};
res.array = await collect(ReadableStream.from([1, 2, 3]));
res.promises = await collect(ReadableStream.from([Promise.resolve("p"), "q"]));
async function* gen() { yield "x"; yield "y"; }
res.asyncGen = await collect(ReadableStream.from(gen()));
res.fromStream = await collect(ReadableStream.from(ReadableStream.from(["s"])));
res.notIterable = await errName(() => ReadableStream.from(5));
res.nullArg = await errName(() => ReadableStream.from(null));
let returned = false;
function* g2() { try { yield 1; yield 2; } finally { returned = true; } }
const rs = ReadableStream.from(g2());
const r = rs.getReader();
await r.read();
await r.cancel("stop");
res.returned = returned;
res.isStream = rs instanceof ReadableStream;
return res;`,
		map[string]any{
			"array": []int{1, 2, 3}, "promises": []string{"p", "q"}, "asyncGen": []string{"x", "y"},
			"fromStream": []string{"s"}, "notIterable": "TypeError", "nullArg": "TypeError", "returned": true, "isStream": true,
		})
}

func TestReadableByteStream(t *testing.T) {
	expectStreams(t, `
const res = {};
let ctl;
const rs = new ReadableStream({ type: "bytes", start(c) { ctl = c; c.enqueue(new Uint8Array([1, 2])); c.enqueue(new Uint16Array([0x0403])); c.close(); } });
const chunks = await collect(rs);
res.types = chunks.map((c) => c.constructor.name);
res.bytes = chunks.map((c) => Array.from(c));
res.byob = await errName(() => new ReadableStream({ type: "bytes" }).getReader({ mode: "byob" }));
res.badMode = await errName(() => new ReadableStream().getReader({ mode: "nope" }));
res.nonView = await errName(() => new ReadableStream({ type: "bytes", start(c) { c.enqueue("str"); } }));
res.byobRequest = (() => { let r; new ReadableStream({ type: "bytes", start(c) { r = c.byobRequest; } }); return r; })();
// The enqueued buffer is detached from the caller: changing it afterwards does not change the chunk.
const src = new Uint8Array([9]);
const rs2 = new ReadableStream({ type: "bytes", start(c) { c.enqueue(src); c.close(); } });
src[0] = 7;
res.copied = Array.from((await rs2.getReader().read()).value);
return res;`,
		map[string]any{
			"types": []string{"Uint8Array", "Uint8Array"}, "bytes": [][]int{{1, 2}, {3, 4}},
			"byob": "TypeError", "badMode": "TypeError", "nonView": "TypeError", "byobRequest": nil, "copied": []int{9},
		})
}

func TestWritableStreamBasics(t *testing.T) {
	expectStreams(t, `
const log = [];
const ws = new WritableStream({
  start() { log.push("start"); },
  write(chunk, c) { log.push("write:" + chunk); return new Promise((r) => setTimeout(r, 0)); },
  close() { log.push("close"); },
});
const w = ws.getWriter();
const res = { locked: ws.locked, desired: w.desiredSize };
await w.ready;
const p1 = w.write("a"), p2 = w.write("b");
res.desiredQueued = w.desiredSize;
await Promise.all([p1, p2]);
await w.close();
await w.closed;
res.log = log;
res.desiredClosed = w.desiredSize;
res.writeAfterClose = await errName(w.write("c"));
res.closeAfterClose = await errName(w.close());
res.secondWriter = await errName(() => ws.getWriter());
w.releaseLock();
res.releasedClosed = await errName(w.closed);
res.releasedDesired = await errName(() => w.desiredSize);
res.releasedWrite = await errName(w.write("d"));
res.abortClosed = await errName(ws.abort("x"));
return res;`,
		map[string]any{
			"locked": true, "desired": 1, "desiredQueued": -1, "log": []string{"start", "write:a", "write:b", "close"},
			"desiredClosed": 0, "writeAfterClose": "TypeError", "closeAfterClose": "TypeError", "secondWriter": "TypeError",
			"releasedClosed": "TypeError", "releasedDesired": "TypeError", "releasedWrite": "TypeError", "abortClosed": "ok",
		})
}

func TestWritableStreamBackpressure(t *testing.T) {
	expectStreams(t, `
const releases = [];
const ws = new WritableStream({ write() { return new Promise((r) => releases.push(r)); } }, new CountQueuingStrategy({ highWaterMark: 2 }));
const w = ws.getWriter();
let readyCount = 0;
const watchReady = () => w.ready.then(() => readyCount++);
await watchReady();
const res = { desired: [w.desiredSize] };
w.write(1); res.desired.push(w.desiredSize);
w.write(2); res.desired.push(w.desiredSize);
w.write(3); res.desired.push(w.desiredSize);
watchReady();
await tick();
res.readyWhileFull = readyCount;
releases.shift()();
await tick();
res.desiredAfterOne = w.desiredSize;
res.readyStillPending = readyCount;
releases.shift()();
await tick();
res.readyAfterTwo = readyCount;
res.desiredAfterTwo = w.desiredSize;
// close() while under backpressure resolves ready.
const ws2 = new WritableStream({ write() { return new Promise(() => {}); } }, { highWaterMark: 0 });
const w2 = ws2.getWriter();
let r2 = false; w2.ready.then(() => { r2 = true; });
await tick();
res.hwm0ReadyBefore = r2;
w2.close();
await tick();
res.hwm0ReadyAfterClose = r2;
// Byte-length strategy counts bytes.
const ws3 = new WritableStream({ write() { return new Promise(() => {}); } }, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
const w3 = ws3.getWriter();
w3.write(new Uint8Array(4));
res.byteDesired = w3.desiredSize;
return res;`,
		map[string]any{
			"desired": []int{2, 1, 0, -1}, "readyWhileFull": 1, "desiredAfterOne": 0, "readyStillPending": 1,
			"readyAfterTwo": 2, "desiredAfterTwo": 1, "hwm0ReadyBefore": false, "hwm0ReadyAfterClose": true, "byteDesired": 6,
		})
}

func TestWritableStreamErrorsAndAbort(t *testing.T) {
	expectStreams(t, `
const res = {};
const bad = new RangeError("sink");
const ws = new WritableStream({ write(chunk) { if (chunk === 2) throw bad; } });
const w = ws.getWriter();
await w.write(1);
try { await w.write(2); } catch (e) { res.writeRejects = e === bad; }
try { await w.write(3); } catch (e) { res.laterWrite = e === bad; }
try { await w.closed; } catch (e) { res.closed = e === bad; }
res.desired = w.desiredSize;
res.closeErrored = await errName(w.close());
// abort: pending writes reject, sink.abort gets the reason, closed rejects with it, signal fires.
const log = [];
let ctl;
let release;
const ws2 = new WritableStream({
  start(c) { ctl = c; },
  write(chunk) { log.push("write:" + chunk); return new Promise((r) => { release = r; }); },
  abort(reason) { log.push("abort:" + reason); },
});
const w2 = ws2.getWriter();
const inflight = w2.write("a");
await tick();
const queued = w2.write("b");
const ab = w2.abort("stop");
res.signalAborted = ctl.signal ? ctl.signal.aborted : "no signal";
let queuedSettled = false;
queued.catch(() => {}).then(() => { queuedSettled = true; });
await tick();
res.queuedWaitsForInflight = queuedSettled;
res.readyRejected = await errName(w2.ready);
release();
await inflight;
await ab;
res.queued = await errName(queued);
res.log = log;
try { await w2.closed; } catch (e) { res.closedReason = e; }
res.writeAfterAbort = await errName(w2.write("c"));
// controller.error errors the stream.
let c3;
const ws3 = new WritableStream({ start(c) { c3 = c; } });
await tick();
c3.error(new URIError("ctl"));
res.ctlError = await errName(ws3.getWriter().write("x"));
// A throwing close rejects close() and closed.
const ws4 = new WritableStream({ close() { throw new EvalError("c"); } });
const w4 = ws4.getWriter();
res.closeThrows = [await errName(w4.close()), await errName(w4.closed)];
res.lockedAbort = await errName(ws4.abort());
res.lockedClose = await errName(ws4.close());
res.badType = await errName(() => new WritableStream({ type: "bytes" }));
return res;`,
		map[string]any{
			"writeRejects": true, "laterWrite": true, "closed": true, "desired": nil, "closeErrored": "TypeError",
			"signalAborted": true, "queued": "stop", "queuedWaitsForInflight": false, "readyRejected": "stop", "log": []string{"write:a", "abort:stop"}, "closedReason": "stop",
			"writeAfterAbort": "stop", "ctlError": "URIError", "closeThrows": []string{"EvalError", "EvalError"},
			"lockedAbort": "TypeError", "lockedClose": "TypeError", "badType": "RangeError",
		})
}

func TestTransformStream(t *testing.T) {
	expectStreams(t, `
const res = {};
const log = [];
const ts = new TransformStream({
  start(c) { log.push("start"); c.enqueue("first"); },
  transform(chunk, c) { c.enqueue(String(chunk).toUpperCase()); c.enqueue("|"); },
  flush(c) { log.push("flush"); c.enqueue("end"); },
});
const w = ts.writable.getWriter();
const reading = collect(ts.readable);
await w.write("a");
await w.write("b");
await w.close();
res.out = await reading;
res.log = log;
// Without a transformer it is an identity stream.
const id = new TransformStream();
const iw = id.writable.getWriter();
iw.write(1); iw.write(2); iw.close();
res.identity = await collect(id.readable);
// A throwing transform errors both sides.
const bad = new TransformStream({ transform() { throw new RangeError("t"); } });
const bw = bad.writable.getWriter();
const br = bad.readable.getReader();
const badRead = br.read();
res.badWrite = await errName(bw.write("x"));
res.badRead = await errName(badRead);
res.badClosed = await errName(bw.closed);
// terminate() closes the readable and errors the writable.
let tc;
const term = new TransformStream({ start(c) { tc = c; } });
const tr = term.readable.getReader();
tc.enqueue("t1");
tc.terminate();
res.terminated = [(await tr.read()).value, (await tr.read()).done, await errName(term.writable.getWriter().write("z"))];
// Cancelling the readable errors the writable with the reason.
const ct = new TransformStream();
await ct.readable.cancel(new SyntaxError("gone"));
res.cancelWrite = await errName(ct.writable.getWriter().write("z"));
res.badReadableType = await errName(() => new TransformStream({ readableType: "bytes" }));
return res;`,
		map[string]any{
			"out": []string{"first", "A", "|", "B", "|", "end"}, "log": []string{"start", "flush"},
			"identity": []int{1, 2}, "badWrite": "RangeError", "badRead": "RangeError", "badClosed": "RangeError",
			"terminated": []any{"t1", true, "TypeError"}, "cancelWrite": "SyntaxError", "badReadableType": "RangeError",
		})
}

func TestTransformStreamBackpressure(t *testing.T) {
	// With the default strategies (readable highWaterMark 0) nothing is
	// transformed until the readable side is read; each read transforms one chunk.
	expectStreams(t, `
let transformed = 0;
const ts = new TransformStream({ transform(chunk, c) { transformed++; c.enqueue(chunk); } });
const w = ts.writable.getWriter();
w.write("a"); w.write("b"); w.write("c");
await tick();
const before = transformed;
const r = ts.readable.getReader();
const first = (await r.read()).value;
await tick();
const afterRead = transformed;
const second = await r.read();
return [before, first, afterRead, second.value, transformed];`, []any{0, "a", 1, "b", 2})
}

func TestPipeTo(t *testing.T) {
	expectStreams(t, `
const res = {};
const got = [];
let closed = false;
const sink = () => new WritableStream({ write(c) { got.push(c); }, close() { closed = true; } });
await ReadableStream.from(["a", "b", "c"]).pipeTo(sink());
res.basic = [got.slice(), closed];
got.length = 0; closed = false;
const ws = sink();
await ReadableStream.from(["x"]).pipeTo(ws, { preventClose: true });
res.preventClose = [got.slice(), closed, ws.locked];
const w = ws.getWriter(); await w.write("more"); await w.close();
res.afterPreventClose = [got.slice(), closed];
res.notWritable = await errName(ReadableStream.from([]).pipeTo({}));
return res;`,
		map[string]any{
			"basic": []any{[]string{"a", "b", "c"}, true}, "preventClose": []any{[]string{"x"}, false, false},
			"afterPreventClose": []any{[]string{"x", "more"}, true}, "notWritable": "TypeError",
		})
}

func TestPipeToErrorPropagation(t *testing.T) {
	expectStreams(t, `
const res = {};
// Source errors -> destination aborted (unless preventAbort), pipe rejects.
const boom = new RangeError("src");
const erroring = () => new ReadableStream({ start(c) { c.enqueue(1); }, pull(c) { c.error(boom); } });
let aborted = null;
const dest = () => new WritableStream({ abort(r) { aborted = r; } });
try { await erroring().pipeTo(dest()); } catch (e) { res.rejected = e === boom; }
res.aborted = aborted === boom;
aborted = null;
const d2 = dest();
res.preventAbort = await errName(erroring().pipeTo(d2, { preventAbort: true }));
res.notAborted = aborted === null;
res.destUsable = await errName(d2.getWriter().write("ok"));
// Destination errors -> source cancelled (unless preventCancel).
let cancelled = null;
const src = () => { let i = 0; return new ReadableStream({ pull(c) { c.enqueue(++i); }, cancel(r) { cancelled = r; } }); };
const sinkErr = new SyntaxError("sink");
const failing = () => new WritableStream({ write(c) { if (c === 2) throw sinkErr; } });
try { await src().pipeTo(failing()); } catch (e) { res.destRejected = e === sinkErr; }
res.cancelled = cancelled === sinkErr;
cancelled = null;
const s2 = src();
res.preventCancel = await errName(s2.pipeTo(failing(), { preventCancel: true }));
res.notCancelled = cancelled === null;
res.sourceUnlocked = !s2.locked;
return res;`,
		map[string]any{
			"rejected": true, "aborted": true, "preventAbort": "RangeError", "notAborted": true, "destUsable": "ok",
			"destRejected": true, "cancelled": true, "preventCancel": "SyntaxError", "notCancelled": true, "sourceUnlocked": true,
		})
}

func TestPipeToAbortSignal(t *testing.T) {
	expectStreams(t, `
const res = {};
let cancelled = null, aborted = null;
const src = new ReadableStream({ pull(c) { return new Promise(() => {}); }, cancel(r) { cancelled = r; } });
const dst = new WritableStream({ abort(r) { aborted = r; } });
const ac = new AbortController();
const p = src.pipeTo(dst, { signal: ac.signal });
await tick();
const reason = new TypeError("stop it");
ac.abort(reason);
try { await p; } catch (e) { res.rejectedWithReason = e === reason; }
res.cancelled = cancelled === reason;
res.aborted = aborted === reason;
res.unlocked = [src.locked, dst.locked];
// An already-aborted signal rejects with its reason (an AbortError by default).
const ac2 = new AbortController();
ac2.abort();
res.preAborted = await errName(ReadableStream.from([1]).pipeTo(new WritableStream(), { signal: ac2.signal }));
// preventAbort and preventCancel are honoured.
cancelled = aborted = null;
const ac3 = new AbortController();
const src3 = new ReadableStream({ cancel(r) { cancelled = r; } });
const dst3 = new WritableStream({ abort(r) { aborted = r; } });
const p3 = src3.pipeTo(dst3, { signal: ac3.signal, preventAbort: true, preventCancel: true });
ac3.abort("r3");
res.prevented = [await errName(p3), cancelled, aborted];
res.badSignal = await errName(ReadableStream.from([]).pipeTo(new WritableStream(), { signal: {} }));
return res;`,
		map[string]any{
			"rejectedWithReason": true, "cancelled": true, "aborted": true, "unlocked": []bool{false, false},
			"preAborted": "AbortError", "prevented": []any{"r3", nil, nil}, "badSignal": "TypeError",
		})
}

func TestPipeThrough(t *testing.T) {
	expectStreams(t, `
const upper = new TransformStream({ transform(c, ctl) { ctl.enqueue(c.toUpperCase()); } });
const exclaim = new TransformStream({ transform(c, ctl) { ctl.enqueue(c + "!"); } });
const out = await collect(ReadableStream.from(["a", "b"]).pipeThrough(upper).pipeThrough(exclaim));
const rs = ReadableStream.from(["x"]);
rs.getReader();
const locked = await (async () => { try { rs.pipeThrough(new TransformStream()); return "ok"; } catch (e) { return e.name; } })();
const bad = await (async () => { try { ReadableStream.from([]).pipeThrough({}); return "ok"; } catch (e) { return e.name; } })();
return [out, locked, bad];`, []any{[]string{"A!", "B!"}, "TypeError", "TypeError"})
}

func TestQueuingStrategies(t *testing.T) {
	expectStreams(t, `
const b = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
const c = new CountQueuingStrategy({ highWaterMark: 4 });
let ctl;
new ReadableStream({ start(x) { ctl = x; } }, b);
ctl.enqueue(new Uint8Array(5));
const rsDesired = ctl.desiredSize;
return {
  b: [b.highWaterMark, b.size(new Uint8Array(7)), b.size(new ArrayBuffer(3))],
  c: [c.highWaterMark, c.size("anything")],
  sameSize: b.size === new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size,
  rsDesired,
  noHWM: await errName(() => new CountQueuingStrategy({})),
  noArg: await errName(() => new ByteLengthQueuingStrategy()),
};`,
		map[string]any{"b": []int{16, 7, 3}, "c": []int{4, 1}, "sameSize": true, "rsDesired": 11, "noHWM": "TypeError", "noArg": "TypeError"})
}

func TestTextEncoderStream(t *testing.T) {
	expectStreams(t, `
const s = new TextEncoderStream();
const w = s.writable.getWriter();
const reading = collect(s.readable);
w.write("h\u00e9");
w.write("\ud83d");       // high surrogate, completed by the next chunk
w.write("\ude00!");
w.write("\ud800");       // lone surrogate at the end
w.close();
const chunks = await reading;
return [s.encoding, chunks.every((c) => c instanceof Uint8Array), hex(concatAll(chunks))];
function concatAll(cs) { const out = []; for (const c of cs) out.push(...c); return new Uint8Array(out); }`,
		[]any{"utf-8", true, "68c3a9f09f988021efbfbd"})
}

func TestTextDecoderStream(t *testing.T) {
	expectStreams(t, `
const decode = async (chunks, label, opts) => {
  const s = new TextDecoderStream(label, opts);
  const w = s.writable.getWriter();
  const reading = collect(s.readable);
  for (const c of chunks) w.write(new Uint8Array(c)).catch(() => {});
  w.close().catch(() => {});
  return (await reading).join("");
};
const res = {};
// "€" is E2 82 AC; U+1F600 is F0 9F 98 80; both split across chunks.
res.split = await decode([[0x61, 0xe2], [0x82], [0xac, 0xf0, 0x9f], [0x98], [0x80, 0x62]]);
res.bom = await decode([[0xef, 0xbb], [0xbf, 0x68, 0x69]]);
res.keepBOM = (await decode([[0xef, 0xbb, 0xbf, 0x68]], "utf-8", { ignoreBOM: true })).length;
res.truncated = await decode([[0x61, 0xe2, 0x82]]);
res.fatal = await errName(decode([[0x61, 0xff]], "utf-8", { fatal: true }));
res.fatalTruncated = await errName(decode([[0x61, 0xe2, 0x82]], "utf8", { fatal: true }));
res.buffer = await decode([]);
const s = new TextDecoderStream("UTF-8", { fatal: true });
res.props = [s.encoding, s.fatal, s.ignoreBOM];
res.label = await errName(() => new TextDecoderStream("latin2"));
const s2 = new TextDecoderStream();
s2.readable.getReader().read().catch(() => {});
res.stringChunk = await errName(s2.writable.getWriter().write("str"));
// Piping a byte stream through the decoder.
res.piped = await collect(ReadableStream.from([new Uint8Array([0xc3]), new Uint8Array([0xa9])]).pipeThrough(new TextDecoderStream()));
return res;`,
		map[string]any{
			"split": "a\u20ac\U0001F600b", "bom": "hi", "keepBOM": 2, "truncated": "a\uFFFD", "fatal": "TypeError",
			"fatalTruncated": "TypeError", "buffer": "", "props": []any{"utf-8", true, false}, "label": "RangeError",
			"stringChunk": "TypeError", "piped": []string{"\u00e9"},
		})
}

func TestIdentityAndFixedLengthStreams(t *testing.T) {
	expectStreams(t, `
const res = {};
const id = new IdentityTransformStream();
const w = id.writable.getWriter();
const reading = collect(id.readable);
w.write(new Uint8Array([1, 2]));
w.write(new Uint16Array([0x0403]).buffer);
w.close();
res.chunks = (await reading).map((c) => [c.constructor.name, Array.from(c)]);
const id2 = new IdentityTransformStream();
id2.readable.getReader().read().catch(() => {});
res.stringChunk = await errName(id2.writable.getWriter().write("text"));
res.isTransform = id instanceof TransformStream;
const f = new FixedLengthStream(3);
const fr = collect(f.readable);
const fw = f.writable.getWriter();
fw.write(new Uint8Array([1, 2, 3]));
await fw.close();
res.fixed = (await fr).map((c) => Array.from(c));
const f2 = new FixedLengthStream(3);
f2.readable.getReader().read().catch(() => {});
res.fixedShort = await errName(async () => { const w2 = f2.writable.getWriter(); await w2.write(new Uint8Array(1)); await w2.close(); });
const f3 = new FixedLengthStream(1);
f3.readable.getReader().read().catch(() => {});
res.fixedLong = await errName(f3.writable.getWriter().write(new Uint8Array(2)));
return res;`,
		map[string]any{
			"chunks":      []any{[]any{"Uint8Array", []int{1, 2}}, []any{"Uint8Array", []int{3, 4}}},
			"stringChunk": "TypeError", "isTransform": true, "fixed": [][]int{{1, 2, 3}}, "fixedShort": "TypeError", "fixedLong": "TypeError",
		})
}

func TestResponseStreamBodies(t *testing.T) {
	expectStreams(t, `
const res = {};
const enc = new TextEncoder();
const mk = () => new ReadableStream({ start(c) { c.enqueue(enc.encode("hel")); c.enqueue(enc.encode("lo \u20ac")); c.close(); } });
res.text = await new Response(mk()).text();
const r = new Response(mk());
const cl = r.clone();
res.clone = [await r.text(), await cl.text()];
res.used = [r.bodyUsed, await errName(r.text())];
// A buffered body is exposed as a stream of bytes.
const body = new Response("abc").body;
res.isStream = body instanceof ReadableStream;
res.bodyBytes = (await collect(body)).map((c) => Array.from(c));
// A streamed body can be returned and consumed after pipeThrough.
const piped = new Response(mk().pipeThrough(new TransformStream()));
res.piped = await piped.text();
// Reading a locked body fails.
const locked = new Response(mk());
locked.body.getReader();
res.locked = await errName(locked.text());
return res;`,
		map[string]any{
			"text": "hello \u20ac", "clone": []string{"hello \u20ac", "hello \u20ac"}, "used": []any{true, "TypeError"},
			"isStream": true, "bodyBytes": [][]int{{97, 98, 99}}, "piped": "hello \u20ac", "locked": "TypeError",
		})
}

func TestStreamedResponseFromHandler(t *testing.T) {
	// The handler's returned Response pumps a ReadableStream body.
	got := evalJS(t, `
const { readable, writable } = new TransformStream();
const w = writable.getWriter();
const enc = new TextEncoder();
(async () => { await w.write(enc.encode("[1,")); await w.write(enc.encode("2]")); await w.close(); })();
return JSON.parse(await new Response(readable).text());`)
	if got != "[1,2]" {
		t.Fatalf("got %s", got)
	}
}
