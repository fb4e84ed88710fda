package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/warrenhq/warren"
)

// MaxSyncKVData bounds key and value together, as for SQLite-backed
// Durable Objects on Cloudflare (the 2 KiB key / 128 KiB value limits are
// those of the legacy KV-backed objects).
const MaxSyncKVData = 2 << 20

// KVGet returns the value stored under key, or ok=false.
func (d *DB) KVGet(key string) (value []byte, ok bool, err error) {
	dest := []driver.Value{nil}
	ok, err = d.internalQueryRow("SELECT value FROM _cf_KV WHERE key = ?", []any{key}, dest)
	if err != nil || !ok {
		return nil, false, err
	}
	switch v := dest[0].(type) {
	case []byte:
		value = append([]byte{}, v...)
	case string:
		value = []byte(v)
	case nil:
	default:
		return nil, false, fmt.Errorf("sqlite: KV value of type %T", v)
	}
	d.rowsRead.Add(1)
	return value, true, nil
}

// KVPut stores value under key.
func (d *DB) KVPut(key string, value []byte) error {
	if len(key)+len(value) > MaxSyncKVData {
		return &warren.Error{Code: warren.CodeBadRequest, Limit: "value size", Message: fmt.Sprintf("key and value are %d bytes together, more than the limit of %d", len(key)+len(value), MaxSyncKVData), Hint: "split the value over several keys"}
	}
	d.denied = ""
	_, err := d.internalExec("INSERT INTO _cf_KV (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	if err == nil {
		d.rowsWritten.Add(1)
	}
	err = d.wrap(err, "")
	d.resetBatch() // after a quota error in a batch
	return err
}

// KVDelete deletes key and reports whether it existed.
func (d *DB) KVDelete(key string) (bool, error) {
	n, err := d.internalExec("DELETE FROM _cf_KV WHERE key = ?", key)
	if err != nil {
		return false, d.wrap(err, "")
	}
	d.rowsWritten.Add(n)
	return n > 0, nil
}

// ListOptions select keys for KVList, as in Cloudflare's list().
type ListOptions struct {
	Start, StartAfter, End, Prefix string
	Reverse                        bool
	Limit                          int
}

// KVList returns keys and values in key order.
func (d *DB) KVList(o ListOptions) (keys []string, values [][]byte, err error) {
	q := "SELECT key, value FROM _cf_KV WHERE 1=1"
	var args []any
	if o.Start != "" {
		q += " AND key >= ?"
		args = append(args, o.Start)
	}
	if o.StartAfter != "" {
		q += " AND key > ?"
		args = append(args, o.StartAfter)
	}
	if o.End != "" {
		q += " AND key < ?"
		args = append(args, o.End)
	}
	if o.Prefix != "" {
		q += " AND key >= ? AND substr(key, 1, ?) = ?"
		args = append(args, o.Prefix, len([]rune(o.Prefix)), o.Prefix)
	}
	if o.Reverse {
		q += " ORDER BY key DESC"
	} else {
		q += " ORDER BY key"
	}
	if o.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", o.Limit)
	}
	d.internal = true
	defer func() { d.internal = false }()
	rows, err := d.conn.QueryContext(context.Background(), q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, nil, err
		}
		keys, values = append(keys, k), append(values, v)
	}
	d.rowsRead.Add(int64(len(keys)))
	return keys, values, rows.Err()
}

// KVDeleteAll deletes every key and every app table: the object's storage
// becomes empty.
func (d *DB) DeleteAll() error {
	d.internal = true
	defer func() { d.internal = false }()
	ctx := context.Background()
	rows, err := d.conn.QueryContext(ctx, "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND type IN ('table','view','trigger')")
	if err != nil {
		return err
	}
	var stmts []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return err
		}
		stmts = append(stmts, fmt.Sprintf("DROP %s IF EXISTS %s", map[string]string{"table": "TABLE", "view": "VIEW", "trigger": "TRIGGER"}[typ], quoteIdent(name)))
	}
	rows.Close()
	d.conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF")
	defer d.conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	for _, s := range stmts {
		if _, err := d.conn.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err = d.conn.ExecContext(ctx, "DELETE FROM _cf_KV"); err != nil {
		return err
	}
	_, err = d.conn.ExecContext(ctx, "DELETE FROM _cf_ALARM")
	return err
}

// Alarm returns the object's alarm time (Unix milliseconds), or ok=false.
func (d *DB) Alarm() (at int64, ok bool, err error) {
	dest := []driver.Value{nil}
	ok, err = d.internalQueryRow("SELECT at FROM _cf_ALARM WHERE id = 1", nil, dest)
	if err != nil || !ok {
		return 0, false, err
	}
	at, ok = dest[0].(int64)
	if !ok {
		return 0, false, fmt.Errorf("sqlite: alarm time of type %T", dest[0])
	}
	return at, true, nil
}

// SetAlarm sets the alarm time (Unix milliseconds).
func (d *DB) SetAlarm(at int64) error {
	_, err := d.internalExec("INSERT INTO _cf_ALARM (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at", at)
	return d.wrap(err, "")
}

// DeleteAlarm removes the alarm.
func (d *DB) DeleteAlarm() error {
	_, err := d.internalExec("DELETE FROM _cf_ALARM")
	return d.wrap(err, "")
}
