// Package warren holds the vocabulary shared by every part of Warren: the code
// a user deploys (WorkerCode), the limits an invocation runs under (Limits),
// and the errors that cross package and process boundaries (Error). It
// imports only the standard library.
package warren

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode/utf8"
)

// ModuleKind says how a module's content is interpreted.
type ModuleKind string

// Module kinds, as in Cloudflare's WorkerCode.modules.
const (
	ModuleESM  ModuleKind = "js"   // ES module (JavaScript, or TypeScript/JSX by file name)
	ModuleCJS  ModuleKind = "cjs"  // CommonJS module
	ModuleText ModuleKind = "text" // imported as a string
	ModuleData ModuleKind = "data" // imported as an ArrayBuffer
	ModuleJSON ModuleKind = "json" // imported as the parsed value
)

// Module is one entry of WorkerCode.Modules.
type Module struct {
	Kind ModuleKind
	// Text is the source (js, cjs, text) or the JSON text (json).
	Text string
	// Data is the content of a data module.
	Data []byte
}

// MaxCodeSize bounds the total size of a WorkerCode's modules (bytes).
const MaxCodeSize = 16 << 20

// MaxModules bounds the number of modules in one WorkerCode.
const MaxModules = 1024

// WorkerCode is the code of a Dynamic Worker, in Cloudflare's shape:
// {compatibilityDate, mainModule, modules}.
type WorkerCode struct {
	CompatibilityDate  string            `json:"compatibilityDate"`
	CompatibilityFlags []string          `json:"compatibilityFlags,omitempty"`
	MainModule         string            `json:"mainModule"`
	Modules            map[string]Module `json:"modules"`
}

// SingleModule returns WorkerCode holding one module named name.
func SingleModule(name, source string) *WorkerCode {
	return &WorkerCode{MainModule: name, Modules: map[string]Module{name: {Kind: ModuleESM, Text: source}}}
}

// UnmarshalJSON accepts a module as a string (an ES module) or as an object
// with exactly one of the keys js, cjs, text, data (base64) or json.
func (m *Module) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = Module{Kind: ModuleESM, Text: s}
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("a module must be a string or an object like {\"js\": \"...\"}")
	}
	if len(obj) != 1 {
		return fmt.Errorf("a module object must have exactly one of the keys js, cjs, text, data, json; got %d keys", len(obj))
	}
	for k, v := range obj {
		switch ModuleKind(k) {
		case ModuleESM, ModuleCJS, ModuleText:
			if err := json.Unmarshal(v, &m.Text); err != nil {
				return fmt.Errorf("module key %q must hold a string", k)
			}
		case ModuleData:
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("module key \"data\" must hold a base64 string")
			}
			d, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("module key \"data\" is not valid base64: %v", err)
			}
			m.Data = d
		case ModuleJSON:
			m.Text = string(v)
		default:
			return fmt.Errorf("unknown module key %q: use one of js, cjs, text, data, json", k)
		}
		m.Kind = ModuleKind(k)
	}
	return nil
}

// MarshalJSON writes the object form.
func (m Module) MarshalJSON() ([]byte, error) {
	switch m.Kind {
	case ModuleData:
		return json.Marshal(map[string]string{"data": base64.StdEncoding.EncodeToString(m.Data)})
	case ModuleJSON:
		if m.Text == "" {
			return []byte(`{"json":null}`), nil
		}
		return []byte(`{"json":` + m.Text + `}`), nil
	}
	return json.Marshal(map[string]string{string(m.Kind): m.Text})
}

// Validate checks the shape of the code and returns an error that says what
// to change.
func (c *WorkerCode) Validate() error {
	if c == nil {
		return &Error{Code: CodeBadCode, Message: "no code given", Hint: `send {"mainModule": "index.js", "modules": {"index.js": "export default { fetch() { return new Response('hi') } }"}}`}
	}
	if len(c.Modules) == 0 {
		return &Error{Code: CodeBadCode, Message: "modules is empty", Hint: "give at least the main module"}
	}
	if len(c.Modules) > MaxModules {
		return &Error{Code: CodeBadCode, Message: fmt.Sprintf("%d modules is more than the limit of %d", len(c.Modules), MaxModules), Hint: "bundle the code into fewer modules"}
	}
	if c.MainModule == "" {
		if len(c.Modules) == 1 {
			for k := range c.Modules {
				c.MainModule = k
			}
		} else {
			return &Error{Code: CodeBadCode, Message: "mainModule is missing", Hint: "set mainModule to the name of the module whose exports are the entrypoints; modules are: " + strings.Join(c.ModuleNames(), ", ")}
		}
	}
	if _, ok := c.Modules[c.MainModule]; !ok {
		return &Error{Code: CodeBadCode, Message: fmt.Sprintf("mainModule %q is not one of the modules", c.MainModule), Hint: "modules are: " + strings.Join(c.ModuleNames(), ", ")}
	}
	total := 0
	for name, m := range c.Modules {
		if err := ValidModuleName(name); err != nil {
			return err
		}
		switch m.Kind {
		case ModuleESM, ModuleCJS, ModuleText, ModuleData, ModuleJSON:
		default:
			return &Error{Code: CodeBadCode, Message: fmt.Sprintf("module %q has unknown kind %q", name, m.Kind)}
		}
		if !utf8.ValidString(m.Text) {
			off := 0
			for off < len(m.Text) {
				r, size := utf8.DecodeRuneInString(m.Text[off:])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				off += size
			}
			return &Error{Code: CodeBadCode, Message: fmt.Sprintf("module %q is not valid UTF-8 (first bad byte at offset %d)", name, off), Hint: "save the source as UTF-8, or send binary content as a data module"}
		}
		if m.Kind == ModuleJSON && m.Text != "" && !json.Valid([]byte(m.Text)) {
			return &Error{Code: CodeBadCode, Message: fmt.Sprintf("module %q: json is not valid JSON", name)}
		}
		total += len(name) + len(m.Text) + len(m.Data)
	}
	if total > MaxCodeSize {
		return &Error{Code: CodeBadCode, Message: fmt.Sprintf("code is %d bytes, more than the limit of %d", total, MaxCodeSize), Hint: "minify the bundle or move large data out of the code"}
	}
	return nil
}

// ValidModuleName checks a module name: a relative slash-separated path in
// UTF-8 without "." or ".." segments, backslashes or control characters.
func ValidModuleName(name string) error {
	bad := name == "" || len(name) > 512 || !utf8.ValidString(name) || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") || path.Clean(name) != name
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			bad = true
		}
	}
	if strings.HasPrefix(name, "../") || name == ".." || name == "." {
		bad = true
	}
	if bad {
		return &Error{Code: CodeBadCode, Message: fmt.Sprintf("module name %q is not valid", name), Hint: `use relative paths like "index.js" or "lib/util.ts", without "..", leading "/" or backslashes`}
	}
	return nil
}

// ModuleNames returns the module names in sorted order.
func (c *WorkerCode) ModuleNames() []string {
	names := make([]string, 0, len(c.Modules))
	for k := range c.Modules {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
