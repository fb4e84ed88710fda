package worker

import (
	"errors"
	"fmt"
	"math"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/js"
	"github.com/warrenhq/warren/webapi"
)

// Operations: what JavaScript calls in Go.
//
// The prelude calls one Go function per isolate, callOp(name, ...args)
// (js.OpHandler). Operations that need the isolate's state (its
// invocations, timers, capabilities, storage) are registered here, each in
// the file of its concern, with opsOf; the stateless ones (UTF-8, URL
// parsing, crypto) are webapi's. Every operation runs on the loop goroutine,
// inside a turn, and every argument comes from untrusted code and is
// checked.

// opFunc is an operation with the isolate's state.
type opFunc func(in *Instance, args []any) (any, error)

var ops = map[string]opFunc{}

// opsOf registers operations; called from init functions.
func opsOf(m map[string]opFunc) {
	for name, f := range m {
		if _, dup := ops[name]; dup {
			panic("worker: duplicate operation " + name)
		}
		if _, dup := webapi.Lookup(name); dup {
			panic("worker: operation " + name + " is also a webapi operation")
		}
		ops[name] = f
	}
}

// op serves one operation (the isolate's js.OpHandler). An operation refused
// by a limit is remembered on the invocation, so that the exception it
// throws, if it escapes, fails the invocation with the limit's error.
func (in *Instance) op(name string, args []any) (any, error) {
	if in.interrupt.Load() != 0 {
		// The turn's budget is spent: JavaScript is being interrupted, and
		// no operation (a chain of WebCrypto calls, SQL) may run on past it.
		return nil, errors.New("interrupted")
	}
	var r any
	var err error
	if f, ok := ops[name]; ok {
		r, err = f(in, args)
	} else if g, ok := webapi.Lookup(name); ok {
		r, err = g(args)
	} else {
		return nil, fmt.Errorf("unknown operation %q", name)
	}
	var we *warren.Error
	if err != nil && errors.As(err, &we) && (we.Code == warren.CodeLimit || we.Code == warren.CodeTooLarge || we.Code == warren.CodeEgress) && in.current != nil {
		in.current.limitErr = we
	}
	return r, err
}

// Argument helpers beside webapi's ArgString, ArgInt and ArgBool.

// argInv returns the live invocation whose id is args[i], and makes it the
// current one.
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

// argCapAs returns the capability whose id is args[i] as a T; what names a
// T in the error ("a loader").
func argCapAs[T any](in *Instance, args []any, i int, what string) (T, error) {
	var zero T
	c, err := in.argCap(args, i)
	if err != nil {
		return zero, err
	}
	t, ok := c.(T)
	if !ok {
		return zero, fmt.Errorf("this binding is not %s", what)
	}
	return t, nil
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
