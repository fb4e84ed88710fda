package supervisor

import (
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsTopApps bounds the per-app series: the apps with the most
// requests since start get their own label value, the rest are summed
// under app="_other", so label cardinality stays bounded however many
// apps exist.
const MetricsTopApps = 50

type metrics struct {
	s        *Supervisor
	reg      *prometheus.Registry
	latency  prometheus.Histogram
	requests prometheus.Counter
	errors   prometheus.Counter

	rateLimited atomic.Int64

	// Counters never go down (Prometheus takes a decrease for a restart
	// of the process): mu guards what Collect remembers to ensure it.
	mu      sync.Mutex
	runner  [4]int64              // the highest runner counters reported (cold starts, evictions, isolates, host restarts)
	series  map[string]*appSeries // per app id, kept after a deletion
	other   [3]int64              // the _other series: requests, errors, CPU µs
	otherOn bool                  // _other has been reported
}

// appSeries is what the per-app counters of one app id have reported. An
// app's totals live in its meter, which a deletion drops and a new deploy
// of the id starts from zero: base keeps the earlier instances' counts.
// What an app counted while outside the top apps went to _other and stays
// there (inOther), so neither its series nor _other goes down when it
// enters or leaves the top.
type appSeries struct {
	inst    weak.Pointer[app] // the instance last read
	last    [3]int64          // its totals then
	base    [3]int64          // the totals of the id's earlier instances
	inOther [3]int64          // of base+last, the part reported under _other
}

func newMetrics(s *Supervisor) *metrics {
	m := &metrics{s: s, reg: prometheus.NewRegistry()}
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "warren_request_duration_seconds",
		Help:    "Time to serve an app request, from routing to the end of the response body.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.requests = prometheus.NewCounter(prometheus.CounterOpts{Name: "warren_requests_total", Help: "App requests served."})
	m.errors = prometheus.NewCounter(prometheus.CounterOpts{Name: "warren_request_errors_total", Help: "App requests that failed (an error or a 5xx status)."})
	m.reg.MustRegister(m.latency, m.requests, m.errors, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(u RequestUsage) {
	m.latency.Observe(u.Wall.Seconds())
	m.requests.Inc()
	if u.Error {
		m.errors.Inc()
	}
}

var (
	descApps         = prometheus.NewDesc("warren_apps", "Apps deployed.", nil, nil)
	descLive         = prometheus.NewDesc("warren_active_objects", "Apps whose Durable Object is in memory (isolate and open database).", nil, nil)
	descIsolates     = prometheus.NewDesc("warren_loader_workers", "Workers held by the supervisor's Worker Loader (compiled code, and stateless apps' isolates).", nil, nil)
	descIsolatesNew  = prometheus.NewDesc("warren_isolates_created_total", "Isolates created by the Worker Loader for stateless apps.", nil, nil)
	descCold         = prometheus.NewDesc("warren_cold_starts_total", "App objects started (code loaded into a new isolate, database opened).", nil, nil)
	descEvict        = prometheus.NewDesc("warren_evictions_total", "Live apps closed to stay under the memory budget or after being idle.", nil, nil)
	descRate         = prometheus.NewDesc("warren_rate_limited_total", "Requests refused by a requests-per-minute quota.", nil, nil)
	descHosts        = prometheus.NewDesc("warren_hosts", "Host processes running apps (0 with --isolation=inprocess).", nil, nil)
	descHostRestarts = prometheus.NewDesc("warren_host_restarts_total", "Host processes restarted after they crashed or were killed.", nil, nil)
	descHostRSS      = prometheus.NewDesc("warren_hosts_resident_memory_bytes", "Resident memory of all host processes (0 with --isolation=inprocess).", nil, nil)
	descConfinement  = prometheus.NewDesc("warren_host_confinement", "1 when the hosts run with this confinement layer, 0 when without (docs/SECURITY.md, \"Host confinement\"); absent with --isolation=inprocess.", []string{"layer"}, nil)
	descAppReq       = prometheus.NewDesc("warren_app_requests_total", "Requests per app since start (top apps; the rest under app=\"_other\").", []string{"app"}, nil)
	descAppErr       = prometheus.NewDesc("warren_app_errors_total", "Failed requests per app since start (top apps; the rest under app=\"_other\").", []string{"app"}, nil)
	descAppCPU       = prometheus.NewDesc("warren_app_cpu_seconds_total", "JavaScript CPU time per app since start (top apps; the rest under app=\"_other\").", []string{"app"}, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descApps, descHosts, descHostRestarts, descHostRSS, descLive, descIsolates, descIsolatesNew, descCold, descEvict, descRate, descConfinement, descAppReq, descAppErr, descAppCPU} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.s
	s.mu.RLock()
	type row struct {
		id  string
		a   *app
		cur [3]int64 // requests, errors, CPU µs of this instance
	}
	rows := make([]row, 0, len(s.apps))
	for _, a := range s.apps {
		rows = append(rows, row{a.id, a, [3]int64{a.use.totalRequests.Load(), a.use.totalErrors.Load(), a.use.totalCPUUS.Load()}})
	}
	s.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(descApps, prometheus.GaugeValue, float64(len(rows)))
	st := s.runner.Stats()

	m.mu.Lock()
	defer m.mu.Unlock()
	// A runner's counters are kept from going down (host.Pool accumulates
	// them across host restarts; this holds for any runner).
	for i, v := range []int64{st.ColdStarts, st.Evictions, st.Isolates, st.HostRestarts} {
		m.runner[i] = max(m.runner[i], v)
	}
	ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(st.Live))
	ch <- prometheus.MustNewConstMetric(descIsolates, prometheus.GaugeValue, float64(st.LoaderWorkers))
	ch <- prometheus.MustNewConstMetric(descIsolatesNew, prometheus.CounterValue, float64(m.runner[2]))
	ch <- prometheus.MustNewConstMetric(descCold, prometheus.CounterValue, float64(m.runner[0]))
	ch <- prometheus.MustNewConstMetric(descEvict, prometheus.CounterValue, float64(m.runner[1]))
	ch <- prometheus.MustNewConstMetric(descHosts, prometheus.GaugeValue, float64(st.Hosts))
	ch <- prometheus.MustNewConstMetric(descHostRestarts, prometheus.CounterValue, float64(m.runner[3]))
	ch <- prometheus.MustNewConstMetric(descHostRSS, prometheus.GaugeValue, float64(st.HostRSS))
	ch <- prometheus.MustNewConstMetric(descRate, prometheus.CounterValue, float64(m.rateLimited.Load()))
	for layer, on := range st.Confinement {
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descConfinement, prometheus.GaugeValue, v, layer)
	}

	// Each app's totals since the id was first seen, and what they grew by
	// since the last scrape.
	if m.series == nil {
		m.series = map[string]*appSeries{}
	}
	type ranked struct {
		id    string
		sr    *appSeries
		total [3]int64
		delta [3]int64
	}
	rs := make([]ranked, 0, len(rows))
	for _, r := range rows {
		sr := m.series[r.id]
		if sr == nil {
			sr = &appSeries{inst: weak.Make(r.a)}
			m.series[r.id] = sr
		} else if sr.inst.Value() != r.a { // deleted and deployed again
			for i := range sr.base {
				sr.base[i] += sr.last[i]
			}
			sr.inst, sr.last = weak.Make(r.a), [3]int64{}
		}
		var k ranked
		k.id, k.sr = r.id, sr
		for i := range r.cur {
			v := max(r.cur[i], sr.last[i])
			k.delta[i] = v - sr.last[i]
			sr.last[i] = v
			k.total[i] = sr.base[i] + v
		}
		rs = append(rs, k)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].total[0] != rs[j].total[0] {
			return rs[i].total[0] > rs[j].total[0]
		}
		return rs[i].id < rs[j].id
	})
	for i, k := range rs {
		if i >= MetricsTopApps {
			// Outside the top apps, what the app did since the last scrape
			// is counted under _other, for good.
			for j := range k.delta {
				k.sr.inOther[j] += k.delta[j]
				m.other[j] += k.delta[j]
			}
			m.otherOn = true
			continue
		}
		ch <- prometheus.MustNewConstMetric(descAppReq, prometheus.CounterValue, float64(k.total[0]-k.sr.inOther[0]), k.id)
		ch <- prometheus.MustNewConstMetric(descAppErr, prometheus.CounterValue, float64(k.total[1]-k.sr.inOther[1]), k.id)
		ch <- prometheus.MustNewConstMetric(descAppCPU, prometheus.CounterValue, float64(k.total[2]-k.sr.inOther[2])/1e6, k.id)
	}
	if m.otherOn {
		ch <- prometheus.MustNewConstMetric(descAppReq, prometheus.CounterValue, float64(m.other[0]), "_other")
		ch <- prometheus.MustNewConstMetric(descAppErr, prometheus.CounterValue, float64(m.other[1]), "_other")
		ch <- prometheus.MustNewConstMetric(descAppCPU, prometheus.CounterValue, float64(m.other[2])/1e6, "_other")
	}
}

// MetricsHandler serves the Prometheus text format.
func (s *Supervisor) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
