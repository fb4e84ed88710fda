package main

import "github.com/warrenhq/warren/host"

// confineHost returns the sandbox a host process applies to itself once it
// is set up (nil until the sandbox package is wired in).
func confineHost(opts host.ChildOptions) func() error { return nil }
