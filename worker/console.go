package worker

import (
	"fmt"
	"time"

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
	// Output is counted per invocation; output outside one (module top
	// level, timers of finished requests) counts against the isolate.
	counter := &in.bootLogs
	if inv := in.current; inv != nil {
		counter = &inv.logs
	}
	*counter += len(msg)
	if *counter > in.limits.LogBytes {
		if *counter-len(msg) <= in.limits.LogBytes {
			in.cfg.Logs(LogEntry{Time: time.Now(), Level: "warn", Message: fmt.Sprintf("log limit of %d bytes reached; further console output is dropped", in.limits.LogBytes), CodeID: in.cfg.CodeID})
		}
		return
	}
	if level == "exception" || level == "error" {
		msg = in.prog.MapStack(msg)
	}
	in.cfg.Logs(LogEntry{Time: time.Now(), Level: level, Message: msg, CodeID: in.cfg.CodeID})
}
