package supervisor

import (
	"net/http"
	"sort"
	"sync/atomic"

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
		id            string
		req, err, cpu int64
	}
	rows := make([]row, 0, len(s.apps))
	for _, a := range s.apps {
		rows = append(rows, row{a.id, a.use.totalRequests.Load(), a.use.totalErrors.Load(), a.use.totalCPUUS.Load()})
	}
	s.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(descApps, prometheus.GaugeValue, float64(len(rows)))
	st := s.runner.Stats()
	ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(st.Live))
	ch <- prometheus.MustNewConstMetric(descIsolates, prometheus.GaugeValue, float64(st.LoaderWorkers))
	ch <- prometheus.MustNewConstMetric(descIsolatesNew, prometheus.CounterValue, float64(st.Isolates))
	ch <- prometheus.MustNewConstMetric(descCold, prometheus.CounterValue, float64(st.ColdStarts))
	ch <- prometheus.MustNewConstMetric(descEvict, prometheus.CounterValue, float64(st.Evictions))
	ch <- prometheus.MustNewConstMetric(descHosts, prometheus.GaugeValue, float64(st.Hosts))
	ch <- prometheus.MustNewConstMetric(descHostRestarts, prometheus.CounterValue, float64(st.HostRestarts))
	ch <- prometheus.MustNewConstMetric(descHostRSS, prometheus.GaugeValue, float64(st.HostRSS))
	ch <- prometheus.MustNewConstMetric(descRate, prometheus.CounterValue, float64(m.rateLimited.Load()))
	for layer, on := range st.Confinement {
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descConfinement, prometheus.GaugeValue, v, layer)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].req != rows[j].req {
			return rows[i].req > rows[j].req
		}
		return rows[i].id < rows[j].id
	})
	var other row
	for i, r := range rows {
		if i >= MetricsTopApps {
			other.req += r.req
			other.err += r.err
			other.cpu += r.cpu
			continue
		}
		ch <- prometheus.MustNewConstMetric(descAppReq, prometheus.CounterValue, float64(r.req), r.id)
		ch <- prometheus.MustNewConstMetric(descAppErr, prometheus.CounterValue, float64(r.err), r.id)
		ch <- prometheus.MustNewConstMetric(descAppCPU, prometheus.CounterValue, float64(r.cpu)/1e6, r.id)
	}
	if len(rows) > MetricsTopApps {
		ch <- prometheus.MustNewConstMetric(descAppReq, prometheus.CounterValue, float64(other.req), "_other")
		ch <- prometheus.MustNewConstMetric(descAppErr, prometheus.CounterValue, float64(other.err), "_other")
		ch <- prometheus.MustNewConstMetric(descAppCPU, prometheus.CounterValue, float64(other.cpu)/1e6, "_other")
	}
}

// MetricsHandler serves the Prometheus text format.
func (s *Supervisor) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
