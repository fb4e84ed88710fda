package actor

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/worker"
)

// Alarms. Each object keeps its alarm time in its own database (the source
// of truth); the namespace keeps an index of pending alarms in alarms.sqlite
// so that it can wake objects after a restart without opening every
// database. An alarm runs alarm({retryCount, isRetry}) at least once: a
// handler that throws is retried with exponential backoff.

// Defaults for alarm retries.
const (
	DefaultAlarmRetryBase = 2 * time.Second
	MaxAlarmRetries       = 6
)

func (ns *Namespace) openAlarms() error {
	idx, err := sqlite.Open(filepath.Join(ns.opts.Dir, ns.opts.Name, "alarms.sqlite"), sqlite.Options{})
	if err != nil {
		return err
	}
	ns.alarmIdx = idx
	ns.alarmTimers = map[string]*time.Timer{}
	ids, ats, err := idx.KVList(sqlite.ListOptions{})
	if err != nil {
		return err
	}
	for i, id := range ids {
		at, err := strconv.ParseInt(string(ats[i]), 10, 64)
		if err == nil {
			ns.arm(id, at, 0)
		}
	}
	return nil
}

// Schedule implements worker.AlarmScheduler.
func (ns *Namespace) Schedule(id string, at int64) {
	ns.alarmMu.Lock()
	defer ns.alarmMu.Unlock()
	if ns.alarmIdx == nil {
		return
	}
	ns.alarmIdx.KVPut(id, []byte(strconv.FormatInt(at, 10)))
	ns.armLocked(id, at, 0)
}

// Cancel implements worker.AlarmScheduler.
func (ns *Namespace) Cancel(id string) {
	ns.alarmMu.Lock()
	defer ns.alarmMu.Unlock()
	if ns.alarmIdx == nil {
		return
	}
	ns.alarmIdx.KVDelete(id)
	if t, ok := ns.alarmTimers[id]; ok {
		t.Stop()
		delete(ns.alarmTimers, id)
	}
}

func (ns *Namespace) arm(id string, at int64, retry int) {
	ns.alarmMu.Lock()
	defer ns.alarmMu.Unlock()
	ns.armLocked(id, at, retry)
}

func (ns *Namespace) armLocked(id string, at int64, retry int) {
	if t, ok := ns.alarmTimers[id]; ok {
		t.Stop()
	}
	d := time.Until(time.UnixMilli(at))
	ns.alarmTimers[id] = time.AfterFunc(d, func() { ns.fire(id, at, retry) })
}

func (ns *Namespace) fire(id string, at int64, retry int) {
	ns.alarmMu.Lock()
	closed := ns.alarmIdx == nil
	ns.alarmMu.Unlock()
	if closed {
		return
	}
	info := map[string]any{"retryCount": retry, "isRetry": retry > 0}
	_, err := ns.Object(id).Call(context.Background(), worker.AlarmMethod, []any{info})
	if err == nil {
		return
	}
	log := ns.opts.Logs
	if retry >= MaxAlarmRetries {
		if log != nil {
			log(worker.LogEntry{Time: time.Now(), Level: "error", Message: fmt.Sprintf("alarm() failed %d times, giving up: %v", retry+1, err), CodeID: ns.opts.Name + "/" + id[:12]})
		}
		ns.Cancel(id)
		return
	}
	base := ns.opts.AlarmRetryBase
	if base <= 0 {
		base = DefaultAlarmRetryBase
	}
	next := time.Now().Add(base << retry).UnixMilli()
	if log != nil {
		log(worker.LogEntry{Time: time.Now(), Level: "warn", Message: fmt.Sprintf("alarm() failed (retry %d of %d at %s): %v", retry+1, MaxAlarmRetries, time.UnixMilli(next).UTC().Format(time.RFC3339), err), CodeID: ns.opts.Name + "/" + id[:12]})
	}
	ns.arm(id, next, retry+1)
}

func (ns *Namespace) closeAlarms() {
	ns.alarmMu.Lock()
	defer ns.alarmMu.Unlock()
	for _, t := range ns.alarmTimers {
		t.Stop()
	}
	ns.alarmTimers = nil
	if ns.alarmIdx != nil {
		ns.alarmIdx.Close()
		ns.alarmIdx = nil
	}
}

var _ worker.AlarmScheduler = (*Namespace)(nil)
