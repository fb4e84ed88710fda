package worker

import (
	"fmt"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

func init() {
	opsOf(map[string]opFunc{
		"log": func(in *Instance, args []any) (any, error) {
			level, _ := webapi.ArgString(args, 0)
			msg, _ := webapi.ArgString(args, 1)
			switch level {
			case "log", "info", "warn", "error", "debug", "exception":
			default:
				level = "log"
			}
			in.log(level, msg)
			return nil, nil
		},
		"now": func(in *Instance, args []any) (any, error) {
			return float64(time.Since(in.born).Microseconds()) / 1000, nil
		},
	})
}

func (in *Instance) log(level, msg string) {
	if in.cfg.Logs == nil {
		return
	}
	if level == "exception" || level == "error" {
		// Mapped first, so that what is counted is what is kept: a long
		// module name repeated in every frame costs its full length.
		msg = in.prog.MapStack(msg)
	}
	// Output is counted per invocation; output outside one (module top
	// level, timers of finished requests) counts against the isolate.
	counter := &in.bootLogs
	if inv := in.current; inv != nil {
		counter = &inv.logs
	}
	*counter += len(msg)
	if *counter > in.limits.LogBytes {
		if *counter-len(msg) <= in.limits.LogBytes {
			in.cfg.Logs(LogEntry{Time: time.Now(), Level: "warn", Message: fmt.Sprintf("log limit of %s reached; further console output is dropped", warren.Bytes(int64(in.limits.LogBytes))), CodeID: in.cfg.CodeID})
		}
		return
	}
	in.cfg.Logs(LogEntry{Time: time.Now(), Level: level, Message: msg, CodeID: in.cfg.CodeID})
}
