package quickjs

import (
	lib "modernc.org/libquickjs"
	qjs "modernc.org/quickjs"
)

// setStrip turns on QuickJS's strip flags (JS_SetStripInfo) for code that vm
// compiles from now on: no source text kept for Function.prototype.toString
// and no debug information (line tables, local names). modernc.org/quickjs
// does not expose the call, so this reaches the runtime handle through
// reflection; if the library's layout changes, it does nothing and reports
// false, and compilation simply keeps the debug information.
func setStrip(vm *qjs.VM, flags int32) bool {
	crt, tls, ok := runtimeOf(vm)
	if !ok {
		return false
	}
	lib.XJS_SetStripInfo(tls, crt, flags)
	return true
}

// StripFlags for CompileStripped.
const (
	StripSource = lib.MJS_STRIP_SOURCE
	StripDebug  = lib.MJS_STRIP_DEBUG
)
