package supervisor

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren"
)

// meter holds an app's usage not yet written to the database, and its
// totals since the process started (for /metrics).
type meter struct {
	requests, errors, cpuUS, wallUS, rowsRead, rowsWritten, outbound atomic.Int64
	pending                                                          atomic.Bool

	totalRequests, totalErrors, totalCPUUS atomic.Int64
}

func (m *meter) add(u RequestUsage) {
	m.requests.Add(1)
	m.totalRequests.Add(1)
	if u.Error {
		m.errors.Add(1)
		m.totalErrors.Add(1)
	}
	m.cpuUS.Add(u.CPU.Microseconds())
	m.totalCPUUS.Add(u.CPU.Microseconds())
	m.wallUS.Add(u.Wall.Microseconds())
	m.rowsRead.Add(u.RowsRead)
	m.rowsWritten.Add(u.RowsWritten)
	m.pending.Store(true)
}

// flush writes the pending usage of every app to the database, in the
// bucket of the current hour, in one transaction.
func (s *Supervisor) flush() {
	s.mu.RLock()
	var apps []*app
	for _, a := range s.apps {
		if a.use.pending.Load() || a.use.outbound.Load() != 0 {
			apps = append(apps, a)
		}
	}
	s.mu.RUnlock()
	s.flushApps(apps)
}

// flushApps writes the apps' pending usage in one transaction. The
// counters are read, not reset, before the commit: only once it succeeds
// is what it wrote taken off them (usage counted meanwhile stays), so a
// flush that fails (a full disk, a locked database) loses nothing and the
// next one writes it. Flushes take turns, so that two never write the same
// counts.
func (s *Supervisor) flushApps(apps []*app) {
	if len(apps) == 0 {
		return
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	hour := time.Now().UTC().Truncate(time.Hour).Unix()
	type written struct {
		m    *meter
		vals [7]int64
	}
	done := make([]written, 0, len(apps))
	failed := func(msg string, err error, app string) {
		// Nothing was taken off the counters: the next flush writes it all.
		for _, a := range apps {
			a.use.pending.Store(true)
		}
		s.log.Error(msg, "app", app, "error", err)
	}
	tx, err := s.db.Begin()
	if err != nil {
		failed("usage not written (kept for the next flush)", err, "")
		return
	}
	defer tx.Rollback()
	for _, a := range apps {
		m := &a.use
		m.pending.Store(false) // before reading: a request counted meanwhile sets it again
		w := written{m: m, vals: [7]int64{m.requests.Load(), m.errors.Load(), m.cpuUS.Load(), m.wallUS.Load(), m.rowsRead.Load(), m.rowsWritten.Load(), m.outbound.Load()}}
		v := w.vals
		_, err := tx.Exec(`INSERT INTO usage (app, hour, requests, errors, cpu_us, wall_us, rows_read, rows_written, outbound, storage_bytes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(app, hour) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors,
			cpu_us = cpu_us + excluded.cpu_us, wall_us = wall_us + excluded.wall_us, rows_read = rows_read + excluded.rows_read,
			rows_written = rows_written + excluded.rows_written, outbound = outbound + excluded.outbound,
			storage_bytes = MAX(storage_bytes, excluded.storage_bytes)`,
			a.id, hour, v[0], v[1], v[2], v[3], v[4], v[5], v[6], dirSize(a.dir))
		if err != nil {
			// SQLite may have rolled the whole transaction back (a full
			// disk, a busy database): write nothing this time.
			failed("usage not written (kept for the next flush)", err, a.id)
			return
		}
		done = append(done, w)
	}
	if err := s.commitUsage(tx); err != nil {
		failed("usage not written (kept for the next flush)", err, "")
		return
	}
	for _, w := range done {
		m, v := w.m, w.vals
		m.requests.Add(-v[0])
		m.errors.Add(-v[1])
		m.cpuUS.Add(-v[2])
		m.wallUS.Add(-v[3])
		m.rowsRead.Add(-v[4])
		m.rowsWritten.Add(-v[5])
		m.outbound.Add(-v[6])
	}
}

// dirSize is the bytes of the files under dir (the app's databases).
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// UsageRow is an app's usage over one period, in the units Cloudflare
// bills. StorageBytes is the largest size seen in the period.
type UsageRow struct {
	App          string  `json:"app"`
	Period       string  `json:"period"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	CPUMs        float64 `json:"cpuMs"`
	WallMs       float64 `json:"wallMs"`
	RowsRead     int64   `json:"rowsRead"`
	RowsWritten  int64   `json:"rowsWritten"`
	Outbound     int64   `json:"outboundRequests"`
	StorageBytes int64   `json:"storageBytes"`
}

var periodFormats = map[string]string{"hour": "%Y-%m-%dT%H:00Z", "day": "%Y-%m-%d", "month": "%Y-%m", "all": "all"}

// Usage returns usage per app (id, or every app when id is "") and per
// period: "hour", "day", "month" or "all". Pending usage is written first.
func (s *Supervisor) Usage(id, period string) ([]UsageRow, error) {
	if period == "" {
		period = "day"
	}
	f, ok := periodFormats[period]
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("unknown usage period %q", period), Hint: "use period=hour, day, month or all"}
	}
	if id != "" {
		if err := ValidateID(id); err != nil {
			return nil, err
		}
		if s.lookup(id) != nil {
			s.flushApps([]*app{s.lookup(id)})
		}
	} else {
		s.flush()
	}
	q := `SELECT app, strftime(?, hour, 'unixepoch') AS p, SUM(requests), SUM(errors), SUM(cpu_us), SUM(wall_us), SUM(rows_read), SUM(rows_written), SUM(outbound), MAX(storage_bytes)
		FROM usage WHERE (? = '' OR app = ?) GROUP BY app, p ORDER BY app, p`
	if period == "all" {
		q = `SELECT app, 'all', SUM(requests), SUM(errors), SUM(cpu_us), SUM(wall_us), SUM(rows_read), SUM(rows_written), SUM(outbound), MAX(storage_bytes)
		FROM usage WHERE (? = '' OR app = ?) GROUP BY app ORDER BY app`
	}
	args := []any{f, id, id}
	if period == "all" {
		args = []any{id, id}
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []UsageRow{}
	for rows.Next() {
		var r UsageRow
		var cpu, wall int64
		if err := rows.Scan(&r.App, &r.Period, &r.Requests, &r.Errors, &cpu, &wall, &r.RowsRead, &r.RowsWritten, &r.Outbound, &r.StorageBytes); err != nil {
			return nil, err
		}
		r.CPUMs, r.WallMs = float64(cpu)/1000, float64(wall)/1000
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteUsageCSV writes rows as CSV with a header line, for billing.
func WriteUsageCSV(w io.Writer, rows []UsageRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"app", "period", "requests", "errors", "cpu_ms", "wall_ms", "rows_read", "rows_written", "outbound_requests", "storage_bytes"})
	for _, r := range rows {
		cw.Write([]string{r.App, r.Period, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Errors, 10),
			strconv.FormatFloat(r.CPUMs, 'f', 3, 64), strconv.FormatFloat(r.WallMs, 'f', 3, 64),
			strconv.FormatInt(r.RowsRead, 10), strconv.FormatInt(r.RowsWritten, 10), strconv.FormatInt(r.Outbound, 10), strconv.FormatInt(r.StorageBytes, 10)})
	}
	cw.Flush()
	return cw.Error()
}
