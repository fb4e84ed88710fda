package host

// RunsInFlight is the number of one-shot runs the pool has registered.
func RunsInFlight(p *Pool) int {
	p.runs.mu.Lock()
	defer p.runs.mu.Unlock()
	return len(p.runs.m)
}
