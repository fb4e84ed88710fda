// Package quickjs implements js.Engine on modernc.org/quickjs, a pure-Go
// translation of QuickJS with a hard per-VM memory limit, interrupts that reach
// into the regex engine, and catchable stack overflow.
package quickjs

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	qjs "modernc.org/quickjs"

	"github.com/warrenhq/warren/js"
)

// gcThreshold is the heap growth that triggers QuickJS's cycle collector.
const gcThreshold = 4 << 20

// Engine is the QuickJS engine. The zero value is ready to use.
type Engine struct {
	once    sync.Once
	mu      sync.Mutex
	vm      *qjs.VM // a VM kept only for compiling
	stripVM *qjs.VM // compiles trusted runtime code without debug information
	err     error
}

var _ js.Engine = (*Engine)(nil)

// Name reports the QuickJS version; bytecode is valid only for the same one.
func (e *Engine) Name() string { return "quickjs-" + qjs.Version() }

func (e *Engine) compiler() (*qjs.VM, error) {
	e.once.Do(func() {
		e.vm, e.err = qjs.NewVM()
		if e.err == nil {
			e.stripVM, e.err = qjs.NewVM()
		}
		if e.err == nil && !setStrip(e.stripVM, StripSource|StripDebug) {
			e.stripVM.Close()
			e.stripVM = nil // compile runtime code with debug information then
		}
	})
	return e.vm, e.err
}

// CompileRuntime compiles trusted runtime code (the prelude) without source
// text or debug information, which makes its bytecode smaller and faster to
// load into every isolate; stack frames in it have no line numbers.
func (e *Engine) CompileRuntime(source string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	vm, err := e.compiler()
	if err != nil {
		return nil, err
	}
	if e.stripVM != nil {
		vm = e.stripVM
	}
	bc, err := vm.Compile(source, qjs.EvalGlobal)
	if err != nil {
		return nil, convertErr(err)
	}
	return bc, nil
}

// CompileModule compiles an ES module that imports nothing.
func (e *Engine) CompileModule(source, filename string) ([]byte, error) {
	return e.compile(source, qjs.EvalModule)
}

// CompileScript compiles a classic script.
func (e *Engine) CompileScript(source, filename string) ([]byte, error) {
	return e.compile(source, qjs.EvalGlobal)
}

func (e *Engine) compile(source string, flags int) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	vm, err := e.compiler()
	if err != nil {
		return nil, err
	}
	bc, err := vm.Compile(source, flags)
	if err != nil {
		return nil, convertErr(err)
	}
	return bc, nil
}

// NewVM creates a fresh isolate.
func (e *Engine) NewVM(opts js.Options) (js.VM, error) {
	vm, err := qjs.NewVM()
	if err != nil {
		return nil, fmt.Errorf("new quickjs vm: %w", err)
	}
	if opts.MemoryLimit > 0 {
		vm.SetMemoryLimit(uintptr(opts.MemoryLimit))
	}
	if opts.MaxStackSlots > 0 {
		vm.SetMaxStackSize(uintptr(opts.MaxStackSlots))
	}
	// QuickJS starts a cycle collection whenever the heap grows by its
	// threshold (256 KiB by default), which made a third of the cost of
	// starting an isolate. A larger threshold lets start-up and short
	// invocations finish without one; the memory limit still applies.
	vm.SetGCThreshold(gcThreshold)
	v := &VM{vm: vm}
	v.crt, _, _ = runtimeOf(vm)
	if v.crt != 0 {
		v.counted = countAllocFailures(v.crt)
	}
	if opts.Ops != nil {
		ops := opts.Ops
		err := vm.RegisterHostFunc("__op", func(args []any) (r any, err error) {
			// A panic must not unwind through the engine: that abandons the VM.
			defer func() {
				if p := recover(); p != nil {
					r, err = nil, fmt.Errorf("internal error in operation: %v", p)
				}
			}()
			if len(args) == 0 {
				return nil, errors.New("__op: missing operation")
			}
			op, ok := args[0].(string)
			if !ok {
				return nil, errors.New("__op: operation must be a string")
			}
			rest := args[1:]
			for i, a := range rest {
				rest[i] = fromEngine(a)
			}
			r, err = ops(op, rest)
			if err != nil {
				return nil, err
			}
			return toEngine(r), nil
		})
		if err != nil {
			vm.Close()
			return nil, fmt.Errorf("register the op handler: %w", err)
		}
	}
	return v, nil
}

// VM is a QuickJS isolate.
type VM struct {
	vm    *qjs.VM
	funcs []*qjs.Value
	crt   uintptr // the engine's JSRuntime, 0 if it cannot be reached (see runtimeOf)
	// counted is set when the runtime's allocator counts its failures
	// (see AllocFailures).
	counted bool
}

// Run evaluates bytecode.
func (v *VM) Run(bytecode []byte) error {
	_, err := v.vm.EvalBytecode(bytecode)
	return convertErr(err)
}

// Func captures a global function and deletes the global.
func (v *VM) Func(name string) (js.Func, error) {
	g := v.vm.GlobalObject()
	defer g.Free()
	atom, err := v.vm.NewAtom(name)
	if err != nil {
		return nil, err
	}
	f, err := g.GetPropertyValue(atom)
	if err != nil {
		return nil, convertErr(err)
	}
	if f.IsUndefined() {
		f.Free()
		return nil, fmt.Errorf("global function %s is not defined", name)
	}
	if _, err := v.vm.Eval("delete globalThis["+fmt.Sprintf("%q", name)+"]", qjs.EvalGlobal); err != nil {
		f.Free()
		return nil, convertErr(err)
	}
	v.funcs = append(v.funcs, &f)
	return &fn{f: f}, nil
}

type fn struct{ f qjs.Value }

func (f *fn) Call(args ...any) (any, error) {
	for i, a := range args {
		args[i] = toEngine(a)
	}
	r, err := f.f.Call(qjs.UndefinedValue, args...)
	if err != nil {
		return nil, convertErr(err)
	}
	return fromEngine(r), nil
}

// RunJobs drains the microtask queue.
func (v *VM) RunJobs() error {
	_, err := v.vm.ExecutePendingJobs()
	return convertErr(err)
}

// Interrupt stops running JavaScript.
func (v *VM) Interrupt() { v.vm.Interrupt() }

// SetLimits changes the memory and call-depth limits.
func (v *VM) SetLimits(memory int64, stackSlots int) {
	if memory > 0 {
		v.vm.SetMemoryLimit(uintptr(memory))
	}
	v.vm.SetMaxStackSize(uintptr(max(stackSlots, 0)))
}

// SetTimeout bounds each later call into JavaScript.
func (v *VM) SetTimeout(d time.Duration) { _ = v.vm.SetEvalTimeout(d) }

// Close frees the isolate and every captured function.
func (v *VM) Close() error {
	v.crt = 0
	for _, f := range v.funcs {
		f.Free()
	}
	v.funcs = nil
	return v.vm.Close()
}

func toEngine(a any) any {
	switch a.(type) {
	case js.Undefined:
		return qjs.Undefined{}
	}
	return a
}

func fromEngine(a any) any {
	switch x := a.(type) {
	case qjs.Undefined:
		return js.Undefined{}
	case *qjs.Object:
		return x.String()
	case *big.Int:
		return x.String()
	case qjs.Unsupported:
		return js.Undefined{}
	}
	return a
}

func convertErr(err error) error {
	if err == nil {
		return nil
	}
	var qe *qjs.Error
	if errors.As(err, &qe) {
		return &js.Error{Name: qe.Name, Message: qe.Message, Stack: qe.Stack, File: qe.FileName, Line: qe.LineNumber, Column: qe.ColumnNumber}
	}
	return err
}
