package quickjs

import (
	"reflect"
	"unsafe"

	"modernc.org/libc"
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
	v := reflect.ValueOf(vm).Elem()
	st := v.FieldByName("state")
	if !st.IsValid() {
		return false
	}
	rtf := st.FieldByName("runtime")
	if !rtf.IsValid() || rtf.Kind() != reflect.Pointer || rtf.IsNil() {
		return false
	}
	rt := reflect.NewAt(rtf.Type().Elem(), unsafe.Pointer(rtf.Pointer())).Elem()
	cr, tlsf := rt.FieldByName("cRuntime"), rt.FieldByName("tls")
	if !cr.IsValid() || cr.Kind() != reflect.Uintptr || !tlsf.IsValid() || tlsf.Type() != reflect.TypeOf((*libc.TLS)(nil)) {
		return false
	}
	crt := *(*uintptr)(unsafe.Pointer(cr.UnsafeAddr()))
	tls := *(**libc.TLS)(unsafe.Pointer(tlsf.UnsafeAddr()))
	if crt == 0 || tls == nil {
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
