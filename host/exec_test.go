package host_test

import "os/exec"

type osExecCmd = exec.Cmd

func command(exe string) *exec.Cmd { return exec.Command(exe, "-test.run=^$") }
