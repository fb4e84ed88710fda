//go:build linux

package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// CgroupLimits are the limits of one worker process's cgroup. Zero means no limit.
type CgroupLimits struct {
	MemoryBytes uint64  // memory.max (v2), memory.limit_in_bytes and memory.memsw.limit_in_bytes (v1)
	CPUs        float64 // CPU time per wall time: 0.5 is half a core (cpu.max, cpu.cfs_quota_us)
	MaxPids     uint64  // processes and threads (pids.max): the limit that holds for root
}

// Cgroup is a control group made by the parent for one worker process. Made under the
// parent's own cgroup (so the parent's limits still cover it): with cgroup v2,
// <own cgroup>/warren/<name> when the memory controller is delegated there; otherwise with
// the v1 controllers, <controller mount>/<own cgroup in it>/warren/<name> for memory, cpu
// and pids (on the machines here: /sys/fs/cgroup/memory/<own>/warren/<name> and
// /sys/fs/cgroup/cpu/warren/<name>).
type Cgroup struct {
	Name    string
	Version int // 1 or 2
	missing []string

	// mu guards dirs and removed: a pool may Remove the group while another goroutine
	// starts a process in it.
	mu      sync.Mutex
	dirs    map[string]string // v1: controller → folder; v2: "" → folder
	removed bool
}

var errRemoved = errors.New("sandbox: the cgroup was removed")

// folders returns a copy of the group's folders, or errRemoved.
func (c *Cgroup) folders() (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return nil, errRemoved
	}
	return maps.Clone(c.dirs), nil
}

var cgroupName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$`)

type cgroupMount struct {
	dir  string // where this process's cgroup of that hierarchy is
	base string // mount point (for messages)
}

// cgroupLayout finds, from /proc/self/mountinfo and /proc/self/cgroup, the folder of this
// process's own cgroup in the v2 hierarchy ("" key) and in each v1 controller's hierarchy.
func cgroupLayout() (v2 *cgroupMount, v1 map[string]cgroupMount, err error) {
	own := map[string]string{} // controller ("" for v2) → path
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	f.Close()

	v1 = map[string]cgroupMount{}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 {
			continue
		}
		root, mnt := a[3], a[4]
		rel := func(p string) (string, bool) {
			if root == "/" {
				return p, true
			}
			if p == root || strings.HasPrefix(p, root+"/") {
				return strings.TrimPrefix(p, root), true
			}
			return "", false // this process's cgroup is not visible in this mount
		}
		switch b[0] {
		case "cgroup2":
			if p, ok := own[""]; ok && v2 == nil {
				if r, ok := rel(p); ok {
					v2 = &cgroupMount{dir: filepath.Join(mnt, r), base: mnt}
				}
			}
		case "cgroup":
			for _, opt := range strings.Split(b[2], ",") {
				if opt != "memory" && opt != "cpu" && opt != "pids" {
					continue
				}
				if _, seen := v1[opt]; seen {
					continue
				}
				if p, ok := own[opt]; ok {
					if r, ok := rel(p); ok {
						v1[opt] = cgroupMount{dir: filepath.Join(mnt, r), base: mnt}
					}
				}
			}
		}
	}
	return v2, v1, nil
}

func v2Controllers(dir string) map[string]bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	out := map[string]bool{}
	if err != nil {
		return out
	}
	for _, c := range strings.Fields(string(b)) {
		out[c] = true
	}
	return out
}

// CgroupFor makes the cgroup of one worker process, with the limits that this machine
// allows. Limits it cannot apply (a controller that is not there) are listed by Missing;
// it fails when it can make no group at all, or when the memory limit cannot be applied,
// saying why. The caller puts the process in with Start (or Add), and calls Remove after
// the process has exited.
func CgroupFor(name string, l CgroupLimits) (*Cgroup, error) {
	if !cgroupName.MatchString(name) {
		return nil, fmt.Errorf("sandbox: cgroup name %q: want letters, digits, '.', '_' or '-'", name)
	}
	v2, v1, err := cgroupLayout()
	if err != nil {
		return nil, fmt.Errorf("sandbox: cgroups: %w", err)
	}
	var v2err error
	if v2 != nil {
		ctl := v2Controllers(v2.dir)
		if ctl["memory"] || l.MemoryBytes == 0 && (ctl["cpu"] || ctl["pids"]) {
			cg, err := cgroupV2(name, v2.dir, ctl, l)
			if err == nil {
				return cg, nil
			}
			v2err = err
		} else {
			v2err = fmt.Errorf("cgroup v2 at %s: the memory controller is not available to this process's cgroup %s (cgroup.controllers: %q)", v2.base, v2.dir, strings.Join(keys(ctl), " "))
		}
	}
	if len(v1) > 0 {
		cg, err := cgroupV1(name, v1, l)
		if err == nil {
			return cg, nil
		}
		if v2err != nil {
			return nil, fmt.Errorf("sandbox: %v; %v", v2err, err)
		}
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if v2err != nil {
		return nil, fmt.Errorf("sandbox: %v; and no cgroup v1 memory, cpu or pids hierarchy is mounted", v2err)
	}
	return nil, errors.New("sandbox: no cgroup file system is mounted (neither cgroup2 nor the v1 memory/cpu/pids controllers)")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, path, err)
	}
	return nil
}

func cgroupV2(name, own string, ctl map[string]bool, l CgroupLimits) (*Cgroup, error) {
	cg := &Cgroup{Name: name, Version: 2, dirs: map[string]string{}}
	var enable []string
	for _, c := range []struct {
		ctl    string
		wanted bool
	}{{"memory", l.MemoryBytes > 0}, {"cpu", l.CPUs > 0}, {"pids", l.MaxPids > 0}} {
		switch {
		case !c.wanted:
		case ctl[c.ctl]:
			enable = append(enable, "+"+c.ctl)
		default:
			cg.missing = append(cg.missing, c.ctl+" (not delegated to "+own+")")
		}
	}
	parent := filepath.Join(own, "warren")
	if len(enable) > 0 {
		// A cgroup with processes in it cannot hand controllers to its children (the
		// "no internal processes" rule): the parent must run in a leaf of a delegated tree.
		if err := writeFile(filepath.Join(own, "cgroup.subtree_control"), strings.Join(enable, " ")); err != nil {
			if errors.Is(err, unix.EBUSY) {
				return nil, fmt.Errorf("cgroup v2: cannot enable %s below %s, which has processes in it; run warren in a leaf of a delegated cgroup (systemd: Delegate=yes) so that it can make warren/ beside itself: %w", strings.Join(enable, " "), own, err)
			}
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
	}
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if len(enable) > 0 {
		if err := writeFile(filepath.Join(parent, "cgroup.subtree_control"), strings.Join(enable, " ")); err != nil {
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	cg.dirs[""] = dir
	fail := func(err error) (*Cgroup, error) {
		os.Remove(dir)
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if l.MemoryBytes > 0 && ctl["memory"] {
		if err := writeFile(filepath.Join(dir, "memory.max"), strconv.FormatUint(l.MemoryBytes, 10)); err != nil {
			return fail(err)
		}
		// No swapping instead of the limit; the whole group is killed on OOM.
		if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
			if err := writeFile(filepath.Join(dir, "memory.swap.max"), "0"); err != nil {
				return fail(err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "memory.oom.group")); err == nil {
			if err := writeFile(filepath.Join(dir, "memory.oom.group"), "1"); err != nil {
				return fail(err)
			}
		}
	}
	if l.CPUs > 0 && ctl["cpu"] {
		const period = 100000
		if err := writeFile(filepath.Join(dir, "cpu.max"), fmt.Sprintf("%d %d", cpuQuota(l.CPUs, period), period)); err != nil {
			return fail(err)
		}
	}
	if l.MaxPids > 0 && ctl["pids"] {
		if err := writeFile(filepath.Join(dir, "pids.max"), strconv.FormatUint(l.MaxPids, 10)); err != nil {
			return fail(err)
		}
	}
	return cg, nil
}

func cpuQuota(cpus float64, period int) int {
	q := int(cpus * float64(period))
	if q < 1000 {
		q = 1000 // the kernel's minimum quota is 1 ms
	}
	return q
}

func cgroupV1(name string, mounts map[string]cgroupMount, l CgroupLimits) (*Cgroup, error) {
	cg := &Cgroup{Name: name, Version: 1, dirs: map[string]string{}}
	fail := func(err error) (*Cgroup, error) {
		cg.Remove()
		return nil, fmt.Errorf("cgroup v1: %w", err)
	}
	for _, c := range []struct {
		ctl    string
		wanted bool
	}{{"memory", l.MemoryBytes > 0}, {"cpu", l.CPUs > 0}, {"pids", l.MaxPids > 0}} {
		if !c.wanted {
			continue
		}
		m, ok := mounts[c.ctl]
		if !ok {
			if c.ctl == "memory" {
				return fail(errors.New("the memory controller is not mounted"))
			}
			cg.missing = append(cg.missing, c.ctl+" (controller not mounted)")
			continue
		}
		parent := filepath.Join(m.dir, "warren")
		if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fail(err)
		}
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fail(err)
		}
		cg.dirs[c.ctl] = dir
		switch c.ctl {
		case "memory":
			if err := writeFile(filepath.Join(dir, "memory.limit_in_bytes"), strconv.FormatUint(l.MemoryBytes, 10)); err != nil {
				return fail(err)
			}
			// memory+swap at the same figure: the limit cannot be escaped into swap
			// (the file exists only with swap accounting).
			if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err == nil {
				if err := writeFile(filepath.Join(dir, "memory.memsw.limit_in_bytes"), strconv.FormatUint(l.MemoryBytes, 10)); err != nil {
					return fail(err)
				}
			}
		case "cpu":
			const period = 100000
			if err := writeFile(filepath.Join(dir, "cpu.cfs_period_us"), strconv.Itoa(period)); err != nil {
				return fail(err)
			}
			if err := writeFile(filepath.Join(dir, "cpu.cfs_quota_us"), strconv.Itoa(cpuQuota(l.CPUs, period))); err != nil {
				return fail(err)
			}
		case "pids":
			if err := writeFile(filepath.Join(dir, "pids.max"), strconv.FormatUint(l.MaxPids, 10)); err != nil {
				return fail(err)
			}
		}
	}
	if len(cg.dirs) == 0 {
		return fail(fmt.Errorf("no limit could be applied: %s", strings.Join(cg.missing, ", ")))
	}
	return cg, nil
}

// Missing lists the requested limits that this machine could not apply.
func (c *Cgroup) Missing() []string { return append([]string(nil), c.missing...) }

// String names the group's folders.
func (c *Cgroup) String() string {
	dirs, err := c.folders()
	if err != nil {
		return fmt.Sprintf("cgroup v%d %s (removed)", c.Version, c.Name)
	}
	if c.Version == 2 {
		return "cgroup v2 " + dirs[""]
	}
	var parts []string
	for _, ctl := range []string{"memory", "cpu", "pids"} {
		if d, ok := dirs[ctl]; ok {
			parts = append(parts, ctl+"="+d)
		}
	}
	return "cgroup v1 " + strings.Join(parts, " ")
}

// Start starts cmd inside the group. With cgroup v2 the process is born in it
// (CLONE_INTO_CGROUP); with v1 it is moved in right after it starts, before the caller
// can hand it any work (and is killed if that fails).
func (c *Cgroup) Start(cmd *exec.Cmd) error {
	if c.Version == 2 {
		dirs, err := c.folders()
		if err != nil {
			return err
		}
		fd, err := unix.Open(dirs[""], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer unix.Close(fd)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = fd
		return cmd.Start()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := c.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	return nil
}

// Add moves a process (and, with v2, all its threads; with v1 too, through cgroup.procs)
// into the group. It fails once the group is removed.
func (c *Cgroup) Add(pid int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return errRemoved
	}
	for ctl, d := range c.dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("sandbox: adding %d to the %s group: %w", pid, ctl, err)
		}
	}
	return nil
}

func (c *Cgroup) memoryDir() (string, error) {
	dirs, err := c.folders()
	if err != nil {
		return "", err
	}
	if d, ok := dirs[""]; ok {
		return d, nil
	}
	if d, ok := dirs["memory"]; ok {
		return d, nil
	}
	return "", errors.New("sandbox: this group has no memory controller")
}

// MemoryUsage is the memory the group's processes use now, in bytes (memory.current,
// memory.usage_in_bytes).
func (c *Cgroup) MemoryUsage() (uint64, error) {
	d, err := c.memoryDir()
	if err != nil {
		return 0, err
	}
	file := "memory.usage_in_bytes"
	if c.Version == 2 {
		file = "memory.current"
	}
	b, err := os.ReadFile(filepath.Join(d, file))
	if err != nil {
		return 0, fmt.Errorf("sandbox: %w", err)
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// OOMKills is how many processes of the group the kernel's OOM killer has killed
// (oom_kill in memory.events, or in memory.oom_control with v1, Linux 4.13+).
func (c *Cgroup) OOMKills() (uint64, error) {
	d, err := c.memoryDir()
	if err != nil {
		return 0, err
	}
	file := "memory.oom_control"
	if c.Version == 2 {
		file = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(d, file))
	if err != nil {
		return 0, fmt.Errorf("sandbox: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("sandbox: no oom_kill counter in %s (kernel older than 4.13)", file)
}

// Kill sends SIGKILL to every process in the group.
func (c *Cgroup) Kill() error {
	dirs, err := c.folders()
	if err != nil {
		return nil // removed: no process was left in it
	}
	if d, ok := dirs[""]; ok {
		if err := writeFile(filepath.Join(d, "cgroup.kill"), "1"); err == nil {
			return nil
		}
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	return nil
}

// Remove deletes the group's folders (the processes in it must have exited: see Kill),
// and the warren/ folder above them when it is left empty. Once it has succeeded, Start
// and Add fail.
func (c *Cgroup) Remove() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for ctl, d := range c.dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sandbox: removing the %s group: %w", ctl, err))
			continue
		}
		delete(c.dirs, ctl)
		os.Remove(filepath.Dir(d)) // warren/: fails while other groups are in it
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.removed = true
	return nil
}

// ProbeCgroups says, for the start-up log, whether worker processes can be given cgroup
// limits on this machine: it makes a group with a memory, CPU and pids limit and removes it.
func ProbeCgroups() Mechanism {
	m := Mechanism{Name: "cgroup"}
	name := fmt.Sprintf("probe-%d", os.Getpid())
	cg, err := CgroupFor(name, CgroupLimits{MemoryBytes: 64 << 20, CPUs: 1, MaxPids: 1024})
	if err != nil {
		m.Detail = err.Error()
		return m
	}
	defer cg.Remove()
	m.Applied = true
	ctl := "memory, cpu, pids"
	if cg.Version == 1 {
		var have []string
		for _, c := range []string{"memory", "cpu", "pids"} {
			if _, ok := cg.dirs[c]; ok {
				have = append(have, c)
			}
		}
		ctl = strings.Join(have, ", ")
	}
	where := strings.TrimPrefix(cg.String(), fmt.Sprintf("cgroup v%d ", cg.Version))
	m.Detail = fmt.Sprintf("v%d (%s): %s", cg.Version, ctl, strings.ReplaceAll(where, name, "<name>"))
	m.Missing = strings.Join(cg.missing, "; ")
	return m
}
