package quickjs

import (
	"reflect"
	"sync"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/libquickjs"
	qjs "modernc.org/quickjs"
)

// runtimeOf returns vm's QuickJS runtime (JSRuntime*) and its TLS.
// modernc.org/quickjs keeps them in unexported fields, reached here through
// reflection; if the library's layout changes, ok is false and the callers
// do without (see setStrip and MemoryUsage).
func runtimeOf(vm *qjs.VM) (crt uintptr, tls *libc.TLS, ok bool) {
	v := reflect.ValueOf(vm).Elem()
	st := v.FieldByName("state")
	if !st.IsValid() {
		return 0, nil, false
	}
	rtf := st.FieldByName("runtime")
	if !rtf.IsValid() || rtf.Kind() != reflect.Pointer || rtf.IsNil() {
		return 0, nil, false
	}
	rt := reflect.NewAt(rtf.Type().Elem(), unsafe.Pointer(rtf.Pointer())).Elem()
	cr, tlsf := rt.FieldByName("cRuntime"), rt.FieldByName("tls")
	if !cr.IsValid() || cr.Kind() != reflect.Uintptr || !tlsf.IsValid() || tlsf.Type() != reflect.TypeOf((*libc.TLS)(nil)) {
		return 0, nil, false
	}
	crt = *(*uintptr)(unsafe.Pointer(cr.UnsafeAddr()))
	tls = *(**libc.TLS)(unsafe.Pointer(tlsf.UnsafeAddr()))
	if crt == 0 || tls == nil {
		return 0, nil, false
	}
	return crt, tls, true
}

// cptr turns an address in the engine's memory (allocated by modernc.org/libc,
// outside the Go heap, so never moved or collected) into a pointer.
func cptr(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// mallocState is the allocator state of a runtime: what the engine's heap
// holds (malloc_size, in allocator-rounded bytes) and its limit.
func mallocState(crt uintptr) *lib.TJSMallocState {
	return &(*lib.TJSRuntime)(cptr(crt)).Fmalloc_ctx.Fmalloc_state
}

// MemoryUsage returns the bytes the isolate's heap holds now and its limit
// (JS_ComputeMemoryUsage's malloc_size and malloc_limit, read without
// walking the heap). ok is false when the runtime cannot be reached.
// Call it on the VM's goroutine.
func (v *VM) MemoryUsage() (used, limit int64, ok bool) {
	if v.crt == 0 {
		return 0, 0, false
	}
	s := mallocState(v.crt)
	return int64(s.Fmalloc_size), int64(s.Fmalloc_limit), true
}

// Allocation failures.
//
// QuickJS throws null when it cannot even allocate the exception for an
// allocation it could not make, so a caller cannot tell an app's own
// `throw null` from running out of memory by the exception; nor by the heap
// size afterwards, since unwinding frees what the failing code held. So each
// runtime's allocator is wrapped to count the allocations it refuses (past
// the memory limit, or when malloc fails). The count lives in the malloc
// state's opaque field, which JS_NewRuntime sets to NULL and which is there
// for a custom allocator's own data; the engine's default functions never
// read it. Only the arena and large-block allocations reach these functions
// (small objects come from arenas), so the wrapper costs nothing measurable.

type (
	mallocFunc  = func(*libc.TLS, uintptr, lib.Tsize_t) uintptr
	reallocFunc = func(*libc.TLS, uintptr, uintptr, lib.Tsize_t) uintptr
)

var (
	hookOnce sync.Once
	// baseMalloc and baseRealloc are the engine's default allocator
	// functions (ccgo function pointers), which the wrappers call.
	baseMalloc, baseRealloc uintptr
	countingMallocVar       mallocFunc  = countingMalloc
	countingReallocVar      reallocFunc = countingRealloc
)

// funcPtr returns the ccgo function pointer of the Go function in *f (the
// address of its closure, as libquickjs's __ccgo_fp does).
func funcPtr[F any](f *F) uintptr { return *(*uintptr)(unsafe.Pointer(f)) }

func countingMalloc(tls *libc.TLS, s uintptr, size lib.Tsize_t) uintptr {
	p := (*(*mallocFunc)(unsafe.Pointer(&baseMalloc)))(tls, s, size)
	if p == 0 {
		(*lib.TJSMallocState)(cptr(s)).Fopaque++
	}
	return p
}

func countingRealloc(tls *libc.TLS, s, ptr uintptr, size lib.Tsize_t) uintptr {
	p := (*(*reallocFunc)(unsafe.Pointer(&baseRealloc)))(tls, s, ptr, size)
	if p == 0 && size != 0 {
		(*lib.TJSMallocState)(cptr(s)).Fopaque++
	}
	return p
}

// countAllocFailures wraps the allocator of runtime crt. It reports false,
// and leaves the runtime alone, if the runtime does not use the engine's
// default allocator or its opaque field is in use.
func countAllocFailures(crt uintptr) bool {
	mc := &(*lib.TJSRuntime)(cptr(crt)).Fmalloc_ctx
	hookOnce.Do(func() { baseMalloc, baseRealloc = mc.Fmf.Fjs_malloc, mc.Fmf.Fjs_realloc })
	if baseMalloc == 0 || baseRealloc == 0 || mc.Fmf.Fjs_malloc != baseMalloc || mc.Fmf.Fjs_realloc != baseRealloc || mc.Fmalloc_state.Fopaque != 0 {
		return false
	}
	mc.Fmf.Fjs_malloc = funcPtr(&countingMallocVar)
	mc.Fmf.Fjs_realloc = funcPtr(&countingReallocVar)
	return true
}

// AllocFailures returns how many allocations the isolate's allocator has
// refused so far (past the memory limit, or when the system had no memory).
// ok is false when they are not counted (see countAllocFailures). Call it
// on the VM's goroutine.
func (v *VM) AllocFailures() (n uint64, ok bool) {
	if v.crt == 0 || !v.counted {
		return 0, false
	}
	return uint64(mallocState(v.crt).Fopaque), true
}
