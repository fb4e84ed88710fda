//go:build !linux

package sandbox

import (
	"errors"
	"os/exec"
	"runtime"
)

var errNotLinux = errors.New("sandbox: process confinement is implemented for Linux only (this is " + runtime.GOOS + ")")

// Confine applies nothing outside Linux; the Report says so.
func Confine(p Policy) (Report, error) {
	var r Report
	for _, n := range []string{"rlimits", "capabilities", "landlock", "seccomp"} {
		r.Add(Mechanism{Name: n, Detail: errNotLinux.Error()})
	}
	return r, nil
}

// CgroupLimits are the limits of one worker process's cgroup (Linux only).
type CgroupLimits struct {
	MemoryBytes uint64
	CPUs        float64
	MaxPids     uint64
}

// Cgroup is a control group (Linux only).
type Cgroup struct {
	Name    string
	Version int
}

// CgroupFor fails outside Linux.
func CgroupFor(name string, l CgroupLimits) (*Cgroup, error) { return nil, errNotLinux }

func (c *Cgroup) Missing() []string            { return nil }
func (c *Cgroup) String() string               { return "no cgroup" }
func (c *Cgroup) Start(cmd *exec.Cmd) error    { return errNotLinux }
func (c *Cgroup) Add(pid int) error            { return errNotLinux }
func (c *Cgroup) MemoryUsage() (uint64, error) { return 0, errNotLinux }
func (c *Cgroup) OOMKills() (uint64, error)    { return 0, errNotLinux }
func (c *Cgroup) Kill() error                  { return errNotLinux }
func (c *Cgroup) Remove() error                { return nil }

// ProbeCgroups reports that there are no cgroups outside Linux.
func ProbeCgroups() Mechanism { return Mechanism{Name: "cgroup", Detail: errNotLinux.Error()} }

// Available reports that no layer exists outside Linux.
func Available() []Mechanism {
	var out []Mechanism
	for _, n := range []string{"landlock", "seccomp", "cgroup"} {
		out = append(out, Mechanism{Name: n, Detail: errNotLinux.Error()})
	}
	return out
}
