package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/demo/demotest"
)

// TestShutdownTimeoutRunsOut: one client holds a request open, so the
// server's drain uses up -shutdown-timeout; every request answered before
// still has its line (buffered durability holds them in memory until the
// auditor's shutdown).
func TestShutdownTimeoutRunsOut(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "LOGGING_AUDIT_DURABILITY: buffered\n", "-shutdown-timeout", "200ms")
	const n = 20
	for range n {
		resp, err := http.Get(base + "/info/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /info/ HTTP/1.1\r\n")); err != nil { // never finished
		t.Fatal(err)
	}
	_ = stop() // its error says the drain timed out
	if got := len(demotest.Lines(t, logPath)); got != n {
		t.Errorf("audit.log has %d lines after a shutdown that ran out of time, want %d", got, n)
	}
}

// TestOptionsStar: "OPTIONS *" reaches the audited handler and gets a line
// (net/http's own answer would bypass every middleware).
func TestOptionsStar(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	lines := demotest.Lines(t, logPath)
	want := fmt.Sprintf("req_method=OPTIONS, req_url=*, success=%s", map[bool]string{true: "True", false: "False"}[resp.StatusCode/100 == 2])
	if len(lines) != 1 || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], fmt.Sprintf("status=HTTP_%d_", resp.StatusCode)) {
		t.Errorf("OPTIONS * answered %d; audit.log:\n%s\nwant one line with %q and that status", resp.StatusCode, strings.Join(lines, "\n"), want)
	}
}

// TestSIGHUPAtStart sends SIGHUP as soon as the demo has written its first
// line, before it listens: the demo must not die of it (the default action
// of SIGHUP), and goes on to serve and to stop cleanly.
func TestSIGHUPAtStart(t *testing.T) {
	bin, err := buildDemo()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(sp, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+filepath.Join(dir, "log")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-settings", sp, "-listen", "127.0.0.1:0")
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("the demo wrote nothing: %v", cmd.Wait())
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	listening := false
	for !listening && lines.Scan() {
		listening = strings.HasPrefix(lines.Text(), "listening on ")
	}
	if !listening {
		t.Fatalf("the demo did not get to listen after an early SIGHUP: %v", cmd.Wait())
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the demo ended with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30s of SIGTERM")
	}
}
