package quickjs

import (
	"testing"

	"github.com/warrenhq/warren/js"
)

func run(t *testing.T, e *Engine, vm js.VM, src string) error {
	t.Helper()
	bc, err := e.CompileScript(src, "t.js")
	if err != nil {
		t.Fatal(err)
	}
	return vm.Run(bc)
}

// The allocator counts the allocations it refuses, which tells an app's
// `throw null` from the null QuickJS throws when it runs out of memory.
func TestAllocFailures(t *testing.T) {
	var e Engine
	v, err := e.NewVM(js.Options{MemoryLimit: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	vm := v.(*VM)
	n0, ok := vm.AllocFailures()
	if !ok {
		t.Fatal("allocation failures are not counted: the engine's layout changed?")
	}
	used, limit, ok := vm.MemoryUsage()
	if !ok || used <= 0 || limit != 8<<20 {
		t.Fatalf("MemoryUsage = %d, %d, %v", used, limit, ok)
	}
	if err := run(t, &e, vm, `try { throw null } catch {}; globalThis.x = 1`); err != nil {
		t.Fatal(err)
	}
	if n, _ := vm.AllocFailures(); n != n0 {
		t.Fatalf("throw null counted %d allocation failures", n-n0)
	}
	err = run(t, &e, vm, `(function () { const a = []; for (;;) a.push(new Array(1e5).fill(1)); })()`)
	if err == nil {
		t.Fatal("the memory bomb did not fail")
	}
	n1, _ := vm.AllocFailures()
	if n1 == n0 {
		t.Fatalf("the memory bomb (%v) counted no allocation failure", err)
	}
	// After the exception unwound, the heap is small again: its size does
	// not tell that the limit was hit, the count does.
	if used, _, _ := vm.MemoryUsage(); used > 4<<20 {
		t.Logf("heap after the bomb: %d bytes", used)
	}
	if err := run(t, &e, vm, `globalThis.y = [1, 2, 3].map(x => x * 2).join()`); err != nil {
		t.Fatalf("the VM does not work after running out of memory: %v", err)
	}
	if n, _ := vm.AllocFailures(); n != n1 {
		t.Fatalf("ordinary allocations counted %d failures", n-n1)
	}
}
