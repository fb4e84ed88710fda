package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A short load run against a real server: every acknowledged write is
// stored, nothing fails, and the report carries the figures.
func TestLoadCommand(t *testing.T) {
	srv := startCLIServer(t)
	var out, errb strings.Builder
	c := &LoadCommand{Stdout: &out, Stderr: &errb}
	if err := c.ParseFlags([]string{"--url", srv.url, "--token", srv.token, "--apps", "3", "--clients", "4", "--duration", "1500ms", "--json"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("load: %v\n%s%s", err, out.String(), errb.String())
	}
	var rep LoadReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if rep.Requests == 0 || rep.AckedWrites == 0 || rep.StoredWrites < rep.AckedWrites || rep.StoredWrites > rep.AckedWrites+4 /* in flight when the run ended */ || rep.LostWrites != 0 || len(rep.Errors) != 0 || rep.P50Ms <= 0 || rep.RSSMiB <= 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, bad := range [][]string{{"--apps", "0"}, {"--writes", "2"}, {"--duration", "-1s"}} {
		if err := (&LoadCommand{Stdout: &out, Stderr: &errb}).ParseFlags(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
