package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/seal"
)

// demoRun is one run of the demo binary whose standard error a test reads
// line by line.
type demoRun struct {
	t   *testing.T
	cmd *exec.Cmd
	// lines has the standard error line by line, as it comes, until it
	// ends (closed then); a test may stop reading at any time.
	lines chan string
	done  chan struct{} // closed when the demo ended
	err   error         // how, once done is closed

	mu  sync.Mutex
	all []string // every line of the standard error
}

// buildPlainDemo builds the demo as go build does, without the race
// detector (whose runtime takes a second to start here), once per test run,
// into the folder TestMain removes.
var buildPlainDemo = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(demoDir, "server-plain")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startDemoBinary starts the demo binary with args in the folder dir and
// the environment env (added to this process's). It is killed at cleanup
// if it still runs.
func startDemoBinary(t *testing.T, dir string, env []string, args ...string) *demoRun {
	t.Helper()
	bin, err := buildPlainDemo()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &demoRun{t: t, cmd: cmd, lines: make(chan string, 1<<14), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.mu.Lock()
			r.all = append(r.all, sc.Text())
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default: // nobody reads any more; kept in all
			}
		}
		close(r.lines)
		r.err = cmd.Wait() // after the pipe is read to its end
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // an error when it ended already
		<-r.done
	})
	return r
}

// output returns what the demo wrote to its standard error so far.
func (r *demoRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.all, "\n")
}

// wait waits at most 30s for the demo to end and returns its exit status
// (-1 when a signal ended it).
func (r *demoRun) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("the demo did not end within 30s; it said:\n%s", r.output())
	}
	var ee *exec.ExitError
	if r.err != nil && !errors.As(r.err, &ee) {
		r.t.Fatal(r.err)
	}
	return r.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and returns the demo's exit status.
func (r *demoRun) stop() int {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatal(err)
	}
	return r.wait()
}

// listening reads the standard error until the demo says where it listens
// and returns its base URL, calling each (when not nil) with every line
// read; it fails the test when the demo ends first.
func (r *demoRun) listening(each func(line string)) string {
	r.t.Helper()
	for line := range r.lines {
		if each != nil {
			each(line)
		}
		if base, ok := strings.CutPrefix(line, "listening on "); ok {
			return base
		}
	}
	code := r.wait()
	r.t.Fatalf("the demo ended (exit status %d, %v) before it listened; it said:\n%s", code, r.err, r.output())
	return ""
}

// get asks base for path and fails unless the answer is 200.
func get(t *testing.T, base, path string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
	}
}

// TestSIGHUPDuringStartup: a SIGHUP from the moment the first package of
// this module is initialized (GODEBUG=inittrace=1 reports each package
// initialized), and after every package initialized later, in twenty runs,
// never ends the demo, which then serves and stops cleanly on SIGTERM (and
// more SIGHUPs during the shutdown reopen nothing: the log is closed).
// Before, the demo asked for SIGHUP in main, after the OpenTelemetry SDK,
// gRPC and protobuf were initialized: milliseconds during which a SIGHUP
// ended it. The handler is now installed by an init that runs before
// those (package internal/demo/sighup), which the test checks in the order
// of the initializations.
//
// Nothing earlier can be tested without a race: before the Go runtime and
// the first packages are initialized no Go program catches a signal (see
// package sighup), and on a slow machine that takes milliseconds.
func TestSIGHUPDuringStartup(t *testing.T) {
	const runs = 20
	// Packages slow to initialize, none of which may come before the
	// handler.
	slow := []string{"go.opentelemetry.io/", "google.golang.org/protobuf/", "google.golang.org/grpc ", "gopkg.in/", "golang.org/x/net/"}
	godebug := "inittrace=1"
	if g := os.Getenv("GODEBUG"); g != "" {
		godebug = g + ",inittrace=1"
	}
	for i := range runs {
		dir := t.TempDir()
		sp := filepath.Join(dir, "settings.yaml")
		if err := os.WriteFile(sp, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+filepath.Join(dir, "log")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := startDemoBinary(t, dir, []string{"GODEBUG=" + godebug}, "-settings", sp, "-listen", "127.0.0.1:0")
		armed, sent := "", 0
		var before []string // the slow packages initialized before the first of this module
		base := r.listening(func(line string) {
			if armed == "" {
				for _, s := range slow {
					if strings.HasPrefix(line, "init "+s) {
						before = append(before, strings.Fields(line)[1])
					}
				}
				if strings.HasPrefix(line, "init github.com/otelaudit/otelaudit/") {
					armed = strings.Fields(line)[1]
				}
			}
			if armed != "" {
				if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
					t.Fatalf("run %d: SIGHUP %d, after %q: %v", i+1, sent+1, line, err)
				}
				sent++
			}
		})
		if armed == "" {
			t.Fatalf("run %d: no package of this module was initialized before the demo listened (GODEBUG=inittrace=1 not honoured?)", i+1)
		}
		if len(before) > 0 {
			t.Fatalf("run %d: %s initialized before the first package of this module (%s): the SIGHUP handler must come before them", i+1, strings.Join(before, ", "), armed)
		}
		get(t, base, "/info/")
		// SIGHUPs during the shutdown too: never fatal, and no reopen of
		// the closed log.
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			_ = r.cmd.Process.Signal(syscall.SIGHUP) // an error once it ended
		}
		if code := r.wait(); code != 0 {
			t.Fatalf("run %d: after %d SIGHUPs from the initialization of %s on, the demo ended with exit status %d (%v) after SIGTERM, want 0; it said:\n%s",
				i+1, sent, armed, code, r.err, r.output())
		}
		if out := r.output(); strings.Contains(out, "reopening audit log") {
			t.Errorf("run %d: %s", i+1, out)
		}
		if n := len(demotest.Lines(t, filepath.Join(dir, "log", "audit.log"))); n != 1 {
			t.Errorf("run %d: audit.log has %d lines, want the one request's", i+1, n)
		}
		if i == 0 {
			t.Logf("%d SIGHUPs sent from the initialization of %s on", sent, armed)
		}
	}
}

// TestHelpExitsZero: -h prints the usage and exits 0 (it exited 1 with
// "flag: help requested"); a flag the demo does not know exits 2.
func TestHelpExitsZero(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "-settings FILE"},
		{[]string{"-help"}, 0, "SIGHUP reopens audit.log"},
		{[]string{"-no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
		{[]string{"-listen"}, 2, "flag needs an argument"},
		{[]string{"stray"}, 2, `unexpected argument "stray"`},
		{[]string{"-router", "chi"}, 2, "examples/routers"},
	} {
		r := startDemoBinary(t, t.TempDir(), nil, tt.args...)
		if code := r.wait(); code != tt.code || !strings.Contains(r.output(), tt.want) {
			t.Errorf("server %q: exit %d, output:\n%s\nwant exit %d and %q", tt.args, code, r.output(), tt.code, tt.want)
		}
	}
	// In process: -h is no error.
	var b bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &b, nil); err != nil || !strings.Contains(b.String(), "usage:") {
		t.Errorf("run -h = %v, output %q; want nil and the usage", err, b.String())
	}
}

// TestStartsInAnyFolder: with no settings file anywhere, the demo starts
// from a folder outside the repository with its built-in settings
// (PSONO_<KEY> overriding them as a file's), writes ./audit-log/audit.log
// there, and leaves no file behind elsewhere (the built-in settings are
// read through a temporary file, removed at once).
func TestStartsInAnyFolder(t *testing.T) {
	if _, err := os.Stat("/root/.psono_server"); err == nil {
		t.Skip("/root/.psono_server exists: Psono's lookup would find its settings")
	}
	dir, home, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	env := []string{"HOME=" + home, "TMPDIR=" + tmp, "PSONO_HOME=", "PSONO_SERVER_SETTING_BASE64=", "PSONO_SERVER_SETTING_TOML_BASE64=",
		"PSONO_LOGGING_AUDIT_DURABILITY=fsync"} // overrides the built-in settings as a file's

	r := startDemoBinary(t, dir, env, "-listen", "127.0.0.1:0")
	base := r.listening(nil)
	get(t, base, "/info/")
	if code := r.stop(); code != 0 {
		t.Fatalf("the demo ended with exit status %d after SIGTERM:\n%s", code, r.output())
	}
	if out := r.output(); !strings.Contains("\n"+out, "\notelaudit: audit=on settings=\"examples/server/settings.yaml (built in)\" folder=./audit-log durability=fsync ") {
		t.Errorf("the demo said:\n%s\nwant its summary naming the built-in settings, ./audit-log and fsync", out)
	}
	if n := len(demotest.Lines(t, filepath.Join(dir, "audit-log", "audit.log"))); n != 1 {
		t.Errorf("%s/audit-log/audit.log has %d lines, want 1", dir, n)
	}
	for _, d := range []string{home, tmp} {
		if left, _ := os.ReadDir(d); len(left) > 0 {
			t.Errorf("the demo left %v in %s", left, d)
		}
	}
}

// lockedBuffer is a bytes.Buffer the demo writes to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStartupSummary: before it listens, the demo prints one line of what
// is on, otelaudit.Summary of its settings: audit, folder, durability,
// strict, the sealing key's fingerprint (not the key), the log name,
// forwarding, the list sizes and the version.
func TestStartupSummary(t *testing.T) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(dir, "demo-startup")
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "settings.yaml")
	text := "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + filepath.Join(dir, "log") + "\nLOGGING_AUDIT_SEAL_KEY: " + keyPath +
		"\nLOGGING_AUDIT_SEAL_LOG_NAME: demo/startup\nLOGGING_AUDIT_BLACKLIST: ['CHECK_HEALTH_SUCCESS']\n"
	if err := os.WriteFile(sp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	settings, err := config.Load(sp)
	if err != nil {
		t.Fatal(err)
	}
	want, err := otelaudit.Summary(settings)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(pubPath)
	fp := strings.Join(strings.Split(strings.TrimSpace(string(pub)), "+")[:2], "+")
	for _, field := range []string{"audit=on ", "settings=" + sp + " ", "folder=" + filepath.Join(dir, "log") + " ", "durability=write ",
		"strict=off ", "sealing=" + fp + " ", "log_name=demo/startup ", "forwarding=off ", "whitelist=0 ", "blacklist=1 ", "version="} {
		if !strings.Contains(want, field) {
			t.Errorf("Summary = %s; want %q in it", want, field)
		}
	}

	var logw lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, []string{"-settings", sp, "-listen", "127.0.0.1:0"}, &logw, ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("the demo did not start: %v\n%s", err, logw.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(logw.String(), "\n")
	summary, listening := -1, -1
	for i, l := range lines {
		if l == "otelaudit: "+want {
			summary = i
		}
		if strings.HasPrefix(l, "listening on ") {
			listening = i
		}
	}
	if summary < 0 || summary > listening {
		t.Errorf("the demo said:\n%s\nwant, before it listens: otelaudit: %s", logw.String(), want)
	}
	key, _ := os.ReadFile(keyPath)
	if k := strings.SplitN(strings.TrimSpace(string(key)), "+", 5); len(k) != 5 || strings.Contains(logw.String(), k[4]) { // PRIVATE+KEY+name+hash+key
		t.Error("the demo printed its private key")
	}
}
