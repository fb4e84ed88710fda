package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/warrenhq/warren/host"
)

// TestMain lets the test binary serve as a host process: warren serve's
// default --isolation=process starts os.Executable() with the argument
// "host", which is this binary under go test.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "host" {
		if err := host.Main(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
