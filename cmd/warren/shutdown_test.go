package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SIGTERM (the serve context ends) ends `warren logs -f` at once: the
// server closes the stream with an end event instead of waiting out its
// shutdown timeout, and the follower says so and exits 0.
func TestShutdownEndsLogFollowers(t *testing.T) {
	t.Setenv("WARREN_ADMIN_TOKEN", "")
	t.Setenv("WARREN_URL", "")
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard, Ready: func(a string) { addrc <- a }}
	if err := c.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data", data, "--isolation", "inprocess"}); err != nil {
		t.Fatal(err)
	}
	go func() { served <- c.Run(ctx) }()
	var url string
	select {
	case a := <-addrc:
		url = "http://" + a
	case err := <-served:
		t.Fatalf("serve exited: %v", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	s := &cliServer{url: url, token: strings.TrimSpace(string(tok)), data: data}
	s.ok(t, "deploy", "app", cliFile(t, "a.js", cliHelloJS))

	var out, errOut syncBuffer
	followed := make(chan error, 1)
	go func() {
		followed <- Run(context.Background(), []string{"logs", "app", "-f", "--url", s.url, "--token", s.token}, &out, &errOut)
	}()
	cliWaitFor(t, &out, "version 1 deployed")
	time.Sleep(50 * time.Millisecond) // the follower waits for new lines
	start := time.Now()
	cancel() // SIGTERM
	select {
	case err := <-followed:
		if err != nil {
			t.Fatalf("the follower failed: %v\n%s", err, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not end within 5 s of the shutdown")
	}
	if !strings.Contains(errOut.String(), "is shutting down") {
		t.Errorf("the follower did not say why it ended: %q", errOut.String())
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop within 5 s")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the shutdown took %v with a follower", d)
	}
}
