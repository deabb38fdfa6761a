package testproc_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testproc"
)

// The test binary doubles as the helper process: with TESTPROC_HELPER set,
// TestMain serves HTTP on $TESTPROC_ADDR until SIGTERM instead of running
// tests.
func TestMain(m *testing.M) {
	if os.Getenv("TESTPROC_HELPER") == "1" {
		helper()
		return
	}
	os.Exit(m.Run())
}

func helper() {
	l, err := net.Listen("tcp", os.Getenv("TESTPROC_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("helper: listening")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})}
	go func() { _ = srv.Serve(l) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	fmt.Println("helper: terminated")
	_ = srv.Close()
}

func newHelper(t *testing.T, exitAtOnce bool) (*testproc.Process, string) {
	t.Helper()
	ports, err := testproc.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	if exitAtOnce {
		// Keep the port busy: the helper cannot listen and exits with status 2.
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	p := &testproc.Process{
		Path: os.Args[0],
		// No 1 s exit delay of the race detector in the helper.
		Env:          append(os.Environ(), "TESTPROC_HELPER=1", "TESTPROC_ADDR="+addr, "GORACE=atexit_sleep_ms=0"),
		LogPath:      filepath.Join(t.TempDir(), "helper.log"),
		Ready:        testproc.HTTPReady("http://" + addr + "/"),
		ReadyTimeout: 20 * time.Second,
	}
	t.Cleanup(func() { _ = p.Stop(5 * time.Second) })
	return p, addr
}

func TestStartStopRestart(t *testing.T) {
	p, addr := newHelper(t, false)
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !p.Running() || p.Pid() <= 0 {
		t.Fatalf("not running after Start (pid %d)", p.Pid())
	}
	if rest, ok := p.LogLine("helper: "); rest != "listening" || !ok {
		t.Errorf("LogLine(%q) = %q, %v; want listening, true", "helper: ", rest, ok)
	}
	if err := p.Start(t.Context()); err == nil {
		t.Error("second Start of a running process: no error")
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if p.Running() || p.Pid() != 0 {
		t.Fatalf("running after Stop (pid %d)", p.Pid())
	}
	if err := testproc.HTTPReady("http://" + addr + "/")(t.Context()); err == nil {
		t.Fatal("still serving after Stop")
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop after restart: %v", err)
	}
	log := p.Log()
	if n := strings.Count(log, "helper: terminated"); n != 2 {
		t.Errorf("log shows %d graceful exits, want 2:\n%s", n, log)
	}
}

func TestStartFailsWhenProcessExits(t *testing.T) {
	p, _ := newHelper(t, true)
	err := p.Start(t.Context())
	if err == nil {
		t.Fatal("Start succeeded for a process that exits at once")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "helper:") {
		t.Errorf("error does not explain the exit or show the log: %v", err)
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := testproc.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Errorf("bad or repeated port %d in %v", p, ports)
		}
		seen[p] = true
	}
}
