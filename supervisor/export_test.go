package supervisor

import (
	"database/sql"
	"sync/atomic"
)

// FailUsageCommits makes the next n commits of usage fail with err, after
// rolling their transaction back (as SQLite does on a full disk).
func FailUsageCommits(s *Supervisor, n int, err error) {
	var left atomic.Int64
	left.Store(int64(n))
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.commitUsage = func(tx *sql.Tx) error {
		if left.Add(-1) >= 0 {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
}

// Flush writes pending usage now.
func Flush(s *Supervisor) { s.flush() }
