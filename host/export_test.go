package host

import (
	"fmt"
	"testing"

	"github.com/warrenhq/warren/supervisor"
)

// RunsInFlight is the number of one-shot runs the pool has registered.
func RunsInFlight(p *Pool) int {
	p.runs.mu.Lock()
	defer p.runs.mu.Unlock()
	return len(p.runs.m)
}

// Supervise starts a supervisor over the pool with opts (its Runner is the
// pool), attaches it to the pool and closes it when the test ends. If the
// supervisor does not start, the pool is closed and the test fails.
func Supervise(tb testing.TB, p *Pool, opts supervisor.Options) *supervisor.Supervisor {
	tb.Helper()
	opts.Runner = p
	sup, err := supervisor.New(opts)
	if err != nil {
		p.Close()
		tb.Fatal(err)
	}
	p.Attach(sup)
	tb.Cleanup(sup.Close)
	return sup
}

// OneAppPerHost returns two app ids that the pool (of two hosts or more)
// places on hosts 0 and 1.
func OneAppPerHost(p *Pool) (onA, onB string) {
	for i := 0; onA == "" || onB == ""; i++ {
		id := fmt.Sprintf("app%d", i)
		if p.HostOf(id) == 0 && onA == "" {
			onA = id
		} else if p.HostOf(id) == 1 && onB == "" {
			onB = id
		}
	}
	return onA, onB
}

// RunsOnAppHosts returns, of the one-shot runs in flight, how many were
// sent to a host that runs apps, and how many there are.
func RunsOnAppHosts(p *Pool) (onAppHosts, inFlight int) {
	p.runs.mu.Lock()
	defer p.runs.mu.Unlock()
	for _, r := range p.runs.m {
		inFlight++
		for _, s := range p.slots {
			if r.slot == s {
				onAppHosts++
			}
		}
	}
	return onAppHosts, inFlight
}
