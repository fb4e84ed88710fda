package quickjs

import (
	"testing"

	qjs "modernc.org/quickjs"
)

func TestStripShrinksBytecode(t *testing.T) {
	src := "function hello(a, b) { const longLocalName = a + b; return longLocalName * 2 }\n" +
		"globalThis.r = hello(1, 2) + String(hello).length"
	vm, _ := qjs.NewVM()
	defer vm.Close()
	full, err := vm.Compile(src, qjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	if !setStrip(vm, StripSource|StripDebug) {
		t.Fatal("could not reach the runtime to set strip flags")
	}
	stripped, err := vm.Compile(src, qjs.EvalGlobal)
	if err != nil {
		t.Fatal(err)
	}
	if len(stripped) >= len(full) {
		t.Fatalf("stripped %d bytes, full %d", len(stripped), len(full))
	}
	vm2, _ := qjs.NewVM()
	defer vm2.Close()
	if _, err := vm2.EvalBytecode(stripped); err != nil {
		t.Fatal(err)
	}
	r, err := vm2.Eval("r", qjs.EvalGlobal)
	if _, ok := r.(int); !ok || err != nil {
		t.Fatalf("stripped code did not run: r = %v, %v", r, err)
	}
}
