package main

import (
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/sandbox"
)

// confineHost returns the sandbox a host process applies to itself once it
// is set up.
func confineHost(opts host.ChildOptions) func(func(sandbox.Report)) error {
	return host.Confine(opts)
}
