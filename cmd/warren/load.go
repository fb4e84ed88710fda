package main

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadCommand is `warren load`: N clients across M apps for a duration,
// mixed reads and writes, against a running server (--url) or a `warren
// serve` it starts as a child process. It reports p50/p99 latency, errors,
// the server's RSS, and checks that every acknowledged write is in the
// apps' databases at the end.
type LoadCommand struct {
	URL, Token string
	Apps       int
	Clients    int
	Duration   time.Duration
	Writes     float64
	Soak       bool
	Interval   time.Duration
	JSON       bool
	Stdout     io.Writer
	Stderr     io.Writer
}

// loadApp counts writes in SQLite: POST adds one row, GET reads the count.
const loadApp = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS w (id INTEGER PRIMARY KEY, at INTEGER)");
  }
  fetch(req) {
    if (req.method === "POST") {
      this.ctx.storage.sql.exec("INSERT INTO w (at) VALUES (?)", Date.now());
      return new Response("ok");
    }
    return Response.json({ writes: this.ctx.storage.sql.exec("SELECT count(*) AS n FROM w").one().n });
  }
}`

// ParseFlags reads the flags.
func (c *LoadCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren load", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	setUsage(fs, "load")
	fs.StringVar(&c.URL, "url", os.Getenv("WARREN_URL"), "server to load (WARREN_URL); empty: start `warren serve` as a child process on a temporary data folder")
	fs.StringVar(&c.Token, "token", "", "admin token of --url (WARREN_ADMIN_TOKEN)")
	fs.IntVar(&c.Apps, "apps", 16, "apps to deploy and spread requests over")
	fs.IntVar(&c.Clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to run")
	fs.Float64Var(&c.Writes, "writes", 0.5, "share of requests that write (0 to 1)")
	fs.BoolVar(&c.Soak, "soak", false, "soak mode: print a report line every --interval (for long runs)")
	fs.DurationVar(&c.Interval, "interval", 10*time.Second, "report interval in soak mode")
	fs.BoolVar(&c.JSON, "json", false, "print the final report as JSON")
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if c.Token == "" {
		c.Token = os.Getenv("WARREN_ADMIN_TOKEN")
	}
	switch {
	case c.Apps < 1 || c.Apps > 100000:
		return fmt.Errorf("--apps must be 1 to 100000")
	case c.Clients < 1 || c.Clients > 10000:
		return fmt.Errorf("--clients must be 1 to 10000")
	case c.Duration <= 0:
		return fmt.Errorf("--duration must be positive")
	case c.Writes < 0 || c.Writes > 1:
		return fmt.Errorf("--writes must be between 0 and 1")
	}
	return nil
}

// LoadReport is the outcome of a load run.
type LoadReport struct {
	Seconds       float64        `json:"seconds"`
	Requests      int64          `json:"requests"`
	PerSecond     float64        `json:"requestsPerSecond"`
	P50Ms         float64        `json:"p50Ms"`
	P99Ms         float64        `json:"p99Ms"`
	MaxMs         float64        `json:"maxMs"`
	Errors        map[string]int `json:"errors"`
	AckedWrites   int64          `json:"ackedWrites"`
	StoredWrites  int64          `json:"storedWrites"`
	LostWrites    int64          `json:"lostWrites"`
	RSSMiB        float64        `json:"serverRssMiB"`
	PeakRSSMiB    float64        `json:"serverPeakRssMiB"`
	ClientsX      int            `json:"clients"`
	AppsX         int            `json:"apps"`
	WriteFraction float64        `json:"writeFraction"`
}

// Run runs the load.
func (c *LoadCommand) Run(ctx context.Context) error {
	if c.URL == "" {
		url, token, stop, err := c.startServer(ctx)
		if err != nil {
			return err
		}
		defer stop()
		c.URL, c.Token = url, token
	}
	c.URL = strings.TrimRight(c.URL, "/")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Clients + 4}, Timeout: 60 * time.Second}
	apps := make([]string, c.Apps)
	for i := range apps {
		apps[i] = fmt.Sprintf("load-%d", i)
		// The apps' request quota is lifted: the load measures the server,
		// not the default requests-per-minute quota (which would answer 429).
		bundle, _ := json.Marshal(map[string]any{"mainModule": "app.js", "modules": map[string]string{"app.js": loadApp},
			"limits": map[string]int{"requestsPerMinute": 1 << 30}})
		req, _ := http.NewRequestWithContext(ctx, "PUT", c.URL+"/api/v1/apps/"+apps[i], bytes.NewReader(bundle))
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("deploy %s: %w (is the server at %s running?)", apps[i], err, c.URL)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("deploy %s: %s: %s", apps[i], resp.Status, b)
		}
	}
	// Writes already in the apps (a rerun against the same server).
	base := make([]int64, c.Apps)
	for i, id := range apps {
		n, err := c.stored(ctx, client, id)
		if err != nil {
			return err
		}
		base[i] = n
	}

	var (
		mu      sync.Mutex
		lat     []time.Duration
		window  []time.Duration
		errs    = map[string]int{}
		winErrs int
		acked   = make([]atomic.Int64, c.Apps)
		total   atomic.Int64
		peakRSS float64
		lastRSS float64
	)
	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c.Clients; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			for runCtx.Err() == nil {
				i := r.IntN(c.Apps)
				write := r.Float64() < c.Writes
				method := "GET"
				if write {
					method = "POST"
				}
				req, _ := http.NewRequestWithContext(runCtx, method, c.URL+"/apps/"+apps[i]+"/", nil)
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				kind := ""
				if err != nil {
					if runCtx.Err() != nil {
						return // the run ended mid-request: neither counted nor an error
					}
					kind = "transport: " + err.Error()
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						kind = "status " + strconv.Itoa(resp.StatusCode)
					} else if write {
						acked[i].Add(1)
					}
				}
				total.Add(1)
				mu.Lock()
				lat = append(lat, d)
				window = append(window, d)
				if kind != "" {
					errs[kind]++
					winErrs++
				}
				mu.Unlock()
			}
		}(uint64(w) + 1)
	}
	// RSS from the server's Prometheus process collector, each second;
	// soak lines every interval.
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		lastReport := time.Now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if rss, err := c.rss(client); err == nil {
				mu.Lock()
				lastRSS = rss
				peakRSS = max(peakRSS, rss)
				mu.Unlock()
			}
			if c.Soak && time.Since(lastReport) >= c.Interval {
				mu.Lock()
				w, e := window, winErrs
				window, winErrs = nil, 0
				rss := lastRSS
				mu.Unlock()
				p50, p99, _ := percentiles(w)
				fmt.Fprintf(c.Stdout, "%s  %6.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d  server RSS %.0f MiB\n",
					time.Now().UTC().Format(time.TimeOnly), float64(len(w))/time.Since(lastReport).Seconds(), p50, p99, e, rss)
				lastReport = time.Now()
			}
		}
	}()
	wg.Wait()
	close(done)
	elapsed := time.Since(start)

	rep := LoadReport{Seconds: elapsed.Seconds(), Requests: total.Load(), Errors: errs, ClientsX: c.Clients, AppsX: c.Apps, WriteFraction: c.Writes}
	rep.PerSecond = float64(rep.Requests) / elapsed.Seconds()
	rep.P50Ms, rep.P99Ms, rep.MaxMs = percentiles(lat)
	if rss, err := c.rss(client); err == nil {
		lastRSS = rss
		peakRSS = max(peakRSS, rss)
	}
	rep.RSSMiB, rep.PeakRSSMiB = lastRSS, peakRSS
	for i, id := range apps {
		n, err := c.stored(ctx, client, id)
		if err != nil {
			return err
		}
		a := acked[i].Load()
		rep.AckedWrites += a
		rep.StoredWrites += n - base[i]
		if n-base[i] < a {
			rep.LostWrites += a - (n - base[i])
		}
	}
	if c.JSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		fmt.Fprintf(c.Stdout, "%d clients, %d apps, %.0f%% writes, %.1f s\n", c.Clients, c.Apps, c.Writes*100, rep.Seconds)
		fmt.Fprintf(c.Stdout, "requests   %d (%.0f/s)\nlatency    p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", rep.Requests, rep.PerSecond, rep.P50Ms, rep.P99Ms, rep.MaxMs)
		fmt.Fprintf(c.Stdout, "errors     %d\n", sumErrors(errs))
		for k, v := range errs {
			fmt.Fprintf(c.Stdout, "           %d × %s\n", v, k)
		}
		fmt.Fprintf(c.Stdout, "writes     %d acknowledged, %d stored (writes in flight when the run ended may be stored unacknowledged), %d lost\n", rep.AckedWrites, rep.StoredWrites, rep.LostWrites)
		fmt.Fprintf(c.Stdout, "server RSS %.1f MiB at the end, %.1f MiB peak\n", rep.RSSMiB, rep.PeakRSSMiB)
	}
	if rep.LostWrites > 0 {
		return fmt.Errorf("%d acknowledged writes are missing", rep.LostWrites)
	}
	return nil
}

func sumErrors(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func percentiles(d []time.Duration) (p50, p99, maxMs float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return ms(s[len(s)/2]), ms(s[len(s)*99/100]), ms(s[len(s)-1])
}

// stored reads an app's count of stored writes.
func (c *LoadCommand) stored(ctx context.Context, client *http.Client, id string) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.URL+"/apps/"+id+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct{ Writes int64 }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		return 0, fmt.Errorf("read the writes of %s: %s %v", id, resp.Status, err)
	}
	return v.Writes, nil
}

// rss reads the server's resident memory, its host processes' included,
// from its /metrics.
func (c *LoadCommand) rss(client *http.Client) (float64, error) {
	req, _ := http.NewRequest("GET", c.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// The server's own RSS plus its host processes'.
	sc := bufio.NewScanner(resp.Body)
	var total float64
	found := false
	for sc.Scan() {
		for _, name := range []string{"process_resident_memory_bytes ", "warren_hosts_resident_memory_bytes "} {
			if v, ok := strings.CutPrefix(sc.Text(), name); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return 0, err
				}
				total += f
				found = true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("no process_resident_memory_bytes in /metrics")
	}
	return total / (1 << 20), nil
}

// startServer starts `warren serve` (this binary) on a free port with a
// temporary data folder.
func (c *LoadCommand) startServer(ctx context.Context) (url, token string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", "", nil, err
	}
	dir, err := os.MkdirTemp("", "warren-load-")
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	b := make([]byte, 16)
	crand.Read(b)
	token = hex.EncodeToString(b)
	cmd := exec.Command(exe, "serve", "--listen", addr, "--data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "WARREN_ADMIN_TOKEN="+token)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	url = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			fmt.Fprintf(c.Stderr, "started warren serve (pid %d) at %s, data in %s\n", cmd.Process.Pid, url, dir)
			return url, token, stop, nil
		}
	}
	stop()
	return "", "", nil, fmt.Errorf("the server did not start within 30 s")
}
