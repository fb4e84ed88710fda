package worker

// The Worker Loader binding (env.LOADER): get/load, and the stubs of the
// Workers it loads (their entrypoints' fetch and RPC).

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/webapi"
)

func init() {
	opsOf(map[string]opFunc{
		"loader.lookup": func(in *Instance, args []any) (any, error) { return in.opLoaderLookup(args) },
		"loader.put":    func(in *Instance, args []any) (any, error) { return in.opLoaderPut(args) },
		"stub.fetch":    func(in *Instance, args []any) (any, error) { return in.opStubFetch(args) },
		"stub.call":     func(in *Instance, args []any) (any, error) { return in.opStubCall(args) },
	})
}

func (in *Instance) opLoaderLookup(args []any) (any, error) {
	l, err := argCapAs[Loader](in, args, 0, "a Worker Loader")
	if err != nil {
		return nil, err
	}
	name, err := webapi.ArgString(args, 1)
	if err != nil {
		return nil, err
	}
	stub, ok := l.Lookup(name)
	if !ok {
		return nil, nil
	}
	return in.capID(stub)
}

func (in *Instance) opLoaderPut(args []any) (any, error) {
	l, err := argCapAs[Loader](in, args, 0, "a Worker Loader")
	if err != nil {
		return nil, err
	}
	name, _ := argOr(args, 1, "")
	text, err := webapi.ArgString(args, 2)
	if err != nil {
		return nil, err
	}
	decoded, err := clone.Decode(text)
	if err != nil {
		return nil, err
	}
	lc, err := in.loadCode(in.resolveCaps(decoded))
	if err != nil {
		return nil, err
	}
	stub, err := l.Load(in.callContext(), name, lc)
	if err != nil {
		return nil, err
	}
	return in.capID(stub)
}

// loadCode converts the value a getCode callback returned into LoadCode.
func (in *Instance) loadCode(v any) (*LoadCode, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: "the Worker Loader callback must return an object {compatibilityDate, mainModule, modules}"}
	}
	code := &warren.WorkerCode{Modules: map[string]warren.Module{}}
	code.CompatibilityDate, _ = obj["compatibilityDate"].(string)
	code.MainModule, _ = obj["mainModule"].(string)
	mods, ok := obj["modules"].(map[string]any)
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: "WorkerCode.modules must be an object mapping module names to code"}
	}
	for name, m := range mods {
		switch x := m.(type) {
		case string:
			code.Modules[name] = warren.Module{Kind: warren.ModuleESM, Text: x}
		case map[string]any:
			if len(x) != 1 {
				return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q must have exactly one of the keys js, cjs, text, data, json", name)}
			}
			for k, val := range x {
				mod := warren.Module{Kind: warren.ModuleKind(k)}
				switch k {
				case "js", "cjs", "text":
					s, ok := val.(string)
					if !ok {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: %s must be a string", name, k)}
					}
					mod.Text = s
				case "data":
					b, ok := val.(clone.Bytes)
					if !ok {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: data must be an ArrayBuffer or typed array", name)}
					}
					mod.Data = b.Data
				case "json":
					j, err := json.Marshal(plain(val))
					if err != nil {
						return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: json is not JSON-serialisable: %v", name, err)}
					}
					mod.Text = string(j)
				case "wasm", "py":
					return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: %s modules are not supported by Warren", name, k)}
				default:
					return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q: unknown key %q; use js, cjs, text, data or json", name, k)}
				}
				code.Modules[name] = mod
			}
		default:
			return nil, &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("module %q must be a string or an object", name)}
		}
	}
	lc := &LoadCode{Code: code}
	if env, ok := obj["env"].(map[string]any); ok {
		lc.Env = env
	}
	if g, present := obj["globalOutbound"]; present {
		switch x := g.(type) {
		case nil:
			lc.Outbound = DenyAll
		case Fetcher:
			lc.Outbound = &Outbound{Via: x}
		case clone.Undefined:
		default:
			return nil, &warren.Error{Code: warren.CodeBadCode, Message: "globalOutbound must be null or a service binding (a stub with fetch)"}
		}
	}
	if lim, ok := obj["limits"].(map[string]any); ok {
		lc.Limits = limitsFromJS(lim)
	}
	return lc, nil
}

func limitsFromJS(m map[string]any) warren.Limits {
	var l warren.Limits
	if f, ok := m["cpuMs"].(float64); ok && f > 0 {
		l.CPU = time.Duration(f * float64(time.Millisecond))
	}
	if f, ok := m["subRequests"].(float64); ok && f > 0 {
		l.Subrequests = int(f)
	}
	if f, ok := m["wallMs"].(float64); ok && f > 0 {
		l.Wall = time.Duration(f * float64(time.Millisecond))
	}
	if f, ok := m["memoryMb"].(float64); ok && f > 0 {
		l.MemoryBytes = int64(f) << 20
	}
	return l
}

// plain turns decoded clone values back into JSON-able Go values.
func plain(v any) any {
	switch x := v.(type) {
	case clone.Undefined:
		return nil
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k := range x {
			out[k] = plain(x[k])
		}
		return out
	}
	return v
}

func (in *Instance) stubEntrypoint(args []any) (Entrypoint, error) {
	ws, err := argCapAs[WorkerStub](in, args, 0, "a loaded Worker")
	if err != nil {
		return nil, err
	}
	ep, _ := args[1].(string)
	var props any
	if s, ok := args[2].(string); ok && s != "" {
		p, err := clone.Decode(s)
		if err != nil {
			return nil, err
		}
		props = in.resolveCaps(p)
	}
	var lim warren.Limits
	if s, ok := args[3].(string); ok && s != "" {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			lim = limitsFromJS(m)
		}
	}
	return ws.Entrypoint(ep, props, lim), nil
}

func (in *Instance) opStubFetch(args []any) (any, error) {
	if len(args) < 5 {
		return nil, errors.New("stub.fetch: missing arguments")
	}
	ep, err := in.stubEntrypoint(args)
	if err != nil {
		return nil, err
	}
	return in.sendFetch(ep, args, 4, false)
}

func (in *Instance) opStubCall(args []any) (any, error) {
	if len(args) < 6 {
		return nil, errors.New("stub.call: missing arguments")
	}
	ep, err := in.stubEntrypoint(args)
	if err != nil {
		return nil, err
	}
	method, err := webapi.ArgString(args, 4)
	if err != nil {
		return nil, err
	}
	return in.call(ep, method, args, 5)
}
