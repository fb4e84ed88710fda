package worker

// Errors: exceptions and limits turned into *warren.Error, and errors sent
// back to JavaScript.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/js"
)

// breakWith marks the isolate unusable and fails every invocation in it.
func (in *Instance) breakWith(e *warren.Error) {
	if !in.broken.CompareAndSwap(nil, e) {
		return
	}
	in.log("error", "isolate discarded: "+e.Error())
	for _, inv := range in.invs {
		in.finish(inv, invResult{err: e})
	}
}

// limitFromException maps engine exceptions that mean a limit was hit.
func (in *Instance) limitFromException(err error) *warren.Error {
	var je *js.Error
	msg := err.Error()
	if errors.As(err, &je) {
		msg = je.Name + ": " + je.Message
	}
	switch {
	case in.interrupt.Load() != 0 || strings.Contains(msg, "interrupted"):
		return in.interruptError()
	case strings.Contains(msg, "out of memory") || strings.Contains(msg, "string too long") || strings.Contains(msg, "OOM"):
		return in.memoryError()
	case msg == "Error: Uncaught null" || msg == "Uncaught null" || msg == "InternalError: (the error's message could not be read)":
		// QuickJS throws null when it cannot even allocate the exception, and
		// an out-of-memory InternalError's message cannot be read back; but
		// an app may throw null, or an error whose message getter throws. It
		// is the memory limit only if the engine refused an allocation in
		// this turn (or, where allocations are not counted, always: a
		// discarded isolate is safe).
		if in.outOfMemory() {
			return in.memoryError()
		}
	}
	return nil
}

func (in *Instance) memoryError() *warren.Error {
	return warren.LimitError("memory", fmt.Sprintf("%d MiB", in.limits.MemoryBytes>>20), "the isolate ran out of memory; keep less data in memory (stream large bodies, page through results), or raise the memory limit")
}

// allocCounter is implemented by VMs that count the allocations their
// engine refused (js/quickjs).
type allocCounter interface {
	AllocFailures() (n uint64, ok bool)
}

// allocFailures returns the VM's count of refused allocations (ok false if
// it has none).
func (in *Instance) allocFailures() (uint64, bool) {
	if c, ok := in.vm.(allocCounter); ok {
		return c.AllocFailures()
	}
	return 0, false
}

// outOfMemory reports whether the engine refused an allocation since the
// start of the running turn, or true when it cannot tell. Call it on the
// loop goroutine (or before the loop starts).
func (in *Instance) outOfMemory() bool {
	n, ok := in.allocFailures()
	return !ok || n != in.allocFails
}

// firstAppFrame returns the first position in stack that is in the app's
// code, not the runtime's.
func firstAppFrame(stack string) string {
	for _, line := range strings.Split(stack, "\n") {
		if i := strings.LastIndex(line, "("); i >= 0 && !strings.Contains(line, "warren:runtime") && !strings.Contains(line, "(native)") {
			return strings.TrimSuffix(line[i+1:], ")")
		}
	}
	return ""
}

// exceptionError turns a JavaScript exception into a *warren.Error.
func (in *Instance) exceptionError(err error, where string) *warren.Error {
	if le := in.limitFromException(err); le != nil {
		return le
	}
	var je *js.Error
	if errors.As(err, &je) {
		e := &warren.Error{Code: warren.CodeException, Name: je.Name, Message: strings.TrimSpace(fmt.Sprintf("uncaught %s: %s %s", je.Name, je.Message, where)), Stack: in.prog.MapStack(je.Stack)}
		if je.Name == "InternalError" && strings.Contains(je.Message, "stack overflow") {
			var depth any = in.limits.StackDepth
			if in.limits.StackDepth == 0 {
				depth = "engine default"
			}
			e = warren.LimitError("stack depth", depth, "the code recursed too deeply; make the recursion iterative or bound its depth")
			e.Stack = je.Stack
		}
		if je.Line > 0 {
			e.Message += " (at " + in.prog.MapStack(fmt.Sprintf("<eval>:%d:%d", je.Line, je.Column)) + ")"
		}
		if at := firstAppFrame(e.Stack); at != "" && !strings.Contains(e.Message, " (at ") {
			e.Message += " (at " + at + ")"
		}
		return e
	}
	var we *warren.Error
	if errors.As(err, &we) {
		return we
	}
	return &warren.Error{Code: warren.CodeInternal, Message: err.Error()}
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
