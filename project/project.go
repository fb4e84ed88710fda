// Package project reads a Worker project in the layout Cloudflare users
// already have (wrangler.jsonc / wrangler.json) and bundles its main module
// from disk. Keys Warren does not support are reported by name, never
// silently ignored.
package project

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/warrenhq/warren"
)

// Config is the subset of wrangler configuration Warren runs.
type Config struct {
	Name               string         `json:"name"`
	Main               string         `json:"main"`
	CompatibilityDate  string         `json:"compatibility_date"`
	CompatibilityFlags []string       `json:"compatibility_flags"`
	Vars               map[string]any `json:"vars"`
	DurableObjects     struct {
		Bindings []DOBinding `json:"bindings"`
	} `json:"durable_objects"`
	Migrations    []Migration     `json:"migrations"`
	WorkerLoaders []LoaderBinding `json:"worker_loaders"`

	// Dir is the folder of the configuration file; Main is relative to it.
	Dir string `json:"-"`
	// Ignored lists the keys present in the file that Warren does not support.
	Ignored []string `json:"-"`
}

// DOBinding binds a Durable Object class to a name in env.
type DOBinding struct {
	Name       string `json:"name"`
	ClassName  string `json:"class_name"`
	ScriptName string `json:"script_name,omitempty"`
}

// Migration declares classes; Warren stores every class in SQLite.
type Migration struct {
	Tag              string   `json:"tag"`
	NewSqliteClasses []string `json:"new_sqlite_classes"`
	NewClasses       []string `json:"new_classes"`
}

// LoaderBinding is a Worker Loader binding.
type LoaderBinding struct {
	Binding string `json:"binding"`
}

var known = map[string]bool{
	"name": true, "main": true, "compatibility_date": true, "compatibility_flags": true, "vars": true,
	"durable_objects": true, "migrations": true, "worker_loaders": true,
	"$schema": true, // editor hint, harmless
}

// Load reads and validates the configuration at path.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text, err := StripJSONC(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(text, &keys); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON(C): %w", path, err)
	}
	c := &Config{}
	dec := json.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k := range keys {
		if !known[k] {
			c.Ignored = append(c.Ignored, k)
		}
	}
	sort.Strings(c.Ignored)
	c.Dir = filepath.Dir(path)
	if c.Main == "" {
		return nil, fmt.Errorf(`%s: "main" is missing: set it to the Worker's entry module, e.g. "src/index.ts"`, path)
	}
	sqliteClasses := map[string]bool{}
	for _, m := range c.Migrations {
		for _, cl := range m.NewSqliteClasses {
			sqliteClasses[cl] = true
		}
		for _, cl := range m.NewClasses {
			sqliteClasses[cl] = true // Warren stores every class in SQLite
		}
	}
	seen := map[string]bool{}
	for _, b := range c.DurableObjects.Bindings {
		if b.Name == "" || b.ClassName == "" {
			return nil, fmt.Errorf(`%s: every durable_objects binding needs "name" and "class_name"`, path)
		}
		if seen[b.Name] {
			return nil, fmt.Errorf("%s: binding %q is declared twice", path, b.Name)
		}
		seen[b.Name] = true
		if b.ScriptName != "" {
			return nil, fmt.Errorf("%s: binding %q uses script_name; Warren runs one Worker per project, so the class must be exported by main", path, b.Name)
		}
		if !sqliteClasses[b.ClassName] {
			return nil, fmt.Errorf(`%s: class %q has no migration; add {"tag": "v1", "new_sqlite_classes": [%q]} to "migrations"`, path, b.ClassName, b.ClassName)
		}
	}
	for _, l := range c.WorkerLoaders {
		if l.Binding == "" || seen[l.Binding] {
			return nil, fmt.Errorf(`%s: every worker_loaders entry needs a unique "binding"`, path)
		}
		seen[l.Binding] = true
	}
	return c, nil
}

// Classes returns the Durable Object classes the migrations declare, in
// order, each once.
func (c *Config) Classes() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range c.Migrations {
		for _, cl := range append(append([]string{}, m.NewSqliteClasses...), m.NewClasses...) {
			if !seen[cl] {
				seen[cl] = true
				out = append(out, cl)
			}
		}
	}
	return out
}

// StripJSONC turns JSONC (comments, trailing commas) into JSON.
func StripJSONC(in []byte) ([]byte, error) {
	var out bytes.Buffer
	inStr := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if inStr {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(in) {
				i++
				out.WriteByte(in[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out.WriteByte(c)
		case c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
			out.WriteByte('\n')
		case c == '/' && i+1 < len(in) && in[i+1] == '*':
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment")
			}
			i += end + 3
			out.WriteByte(' ')
		case c == ',':
			// Drop a comma followed (after space and comments) by } or ].
			j := i + 1
			for j < len(in) {
				if in[j] == ' ' || in[j] == '\t' || in[j] == '\n' || in[j] == '\r' {
					j++
				} else if in[j] == '/' && j+1 < len(in) && in[j+1] == '/' {
					for j < len(in) && in[j] != '\n' {
						j++
					}
				} else if in[j] == '/' && j+1 < len(in) && in[j+1] == '*' {
					end := bytes.Index(in[j+2:], []byte("*/"))
					if end < 0 {
						break
					}
					j += end + 4
				} else {
					break
				}
			}
			if j < len(in) && (in[j] == '}' || in[j] == ']') {
				continue
			}
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes(), nil
}

// Code bundles the project's main module from disk (with its imports and
// npm dependencies from node_modules) into WorkerCode with one module.
func (c *Config) Code() (*warren.WorkerCode, error) {
	entry := filepath.Join(absDir(c.Dir), c.Main)
	if _, err := os.Stat(entry); err != nil {
		return nil, fmt.Errorf("main module: %w", err)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{entry},
		Bundle:        true,
		Write:         false,
		Format:        api.FormatESModule,
		Platform:      api.PlatformNeutral,
		Target:        api.ESNext,
		MainFields:    []string{"module", "main"},
		Conditions:    []string{"workerd", "worker", "browser"},
		External:      []string{"cloudflare:*"},
		LogLevel:      api.LogLevelSilent,
		AbsWorkingDir: absDir(c.Dir),
		Outfile:       "worker.js",
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		msg := m.Text
		if m.Location != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column+1, m.Text)
		}
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: msg}
	}
	var src string
	for _, f := range res.OutputFiles {
		if !strings.HasSuffix(f.Path, ".map") {
			src = string(f.Contents)
		}
	}
	name := strings.TrimSuffix(filepath.Base(c.Main), filepath.Ext(c.Main)) + ".js"
	return warren.SingleModule(name, src), nil
}

func absDir(d string) string {
	a, err := filepath.Abs(d)
	if err != nil {
		return d
	}
	return a
}
