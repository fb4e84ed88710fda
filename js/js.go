// Package js is Warren's engine-neutral view of a JavaScript isolate.
//
// An Engine compiles source once into bytecode; a VM is one isolate (its own
// heap, globals and job queue) made fresh from that bytecode. Everything that
// crosses between Go and a VM is a plain Go value: string, float64, int,
// bool, nil, or Undefined. Richer data crosses as JSON text and binary data as
// base64, which keeps the binding layer small and free of manual reference
// counting. A VM is not safe for concurrent use: one goroutine at a time, with
// the single exception of Interrupt.
package js

import "time"

// Undefined is the Go value for JavaScript's undefined.
type Undefined struct{}

// OpHandler is the one Go function a VM may call (as the global __op, which
// the runtime captures and deletes before app code runs): op names the
// operation and args carry the call's plain values. A returned error is
// thrown in JavaScript as an Error with the error's text.
type OpHandler func(op string, args []any) (any, error)

// Options configure a new VM. Zero values mean "engine default".
type Options struct {
	MemoryLimit   int64 // bytes of engine heap; allocation past it throws "out of memory"
	MaxStackSlots int   // call depth limit; deeper recursion throws "stack overflow"
	Ops           OpHandler
}

// Engine compiles code and creates VMs.
type Engine interface {
	// Name is the engine's name and version; bytecode is keyed by it.
	Name() string
	// CompileModule compiles an ES module with no imports into bytecode.
	CompileModule(source, filename string) ([]byte, error)
	// CompileScript compiles a classic script into bytecode.
	CompileScript(source, filename string) ([]byte, error)
	// CompileRuntime compiles trusted runtime code (a classic script); the
	// engine may drop debug information to make it cheaper to load.
	CompileRuntime(source string) ([]byte, error)
	// NewVM creates an empty isolate.
	NewVM(opts Options) (VM, error)
}

// VM is one isolate.
type VM interface {
	// Run evaluates bytecode from CompileModule or CompileScript.
	Run(bytecode []byte) error
	// Func captures the global function name for later calls from Go and
	// removes it from the global object, so that code in the VM cannot see
	// or replace it.
	Func(name string) (Func, error)
	// RunJobs drains the microtask queue.
	RunJobs() error
	// Interrupt stops the JavaScript running now; safe from any goroutine.
	// After an interrupt the VM must be closed.
	Interrupt()
	// SetTimeout bounds every later call into JavaScript; zero disables.
	SetTimeout(d time.Duration)
	// SetLimits changes the memory and call-depth limits (zero: engine
	// default), for a VM made before its owner was known.
	SetLimits(memory int64, stackSlots int)
	// Close frees the isolate.
	Close() error
}

// Func is a captured JavaScript function.
type Func interface {
	// Call invokes the function with plain Go values and returns its result
	// as a plain Go value.
	Call(args ...any) (any, error)
}

// Error is a JavaScript exception seen from Go.
type Error struct {
	Name    string // e.g. "TypeError"
	Message string
	Stack   string
	File    string // set for syntax errors
	Line    int
	Column  int
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Name + ": " + e.Message
	if e.Name == "" {
		s = e.Message
	}
	return s
}
