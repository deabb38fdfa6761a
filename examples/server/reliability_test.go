package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/testproc"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// loadClient is a keep-alive HTTP client for n concurrent workers.
func loadClient(n int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
}

// shareIDs reads every audit line under dir (audit.log and its rotated
// copies), checks each is well formed and returns how often each
// kwarg_share_id occurs.
func shareIDs(t *testing.T, dir string) (map[string]int, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "audit.log*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit files in %s: %v", dir, err)
	}
	ids := map[string]int{}
	total := 0
	for _, name := range files {
		if strings.HasSuffix(name, seal.CheckpointsSuffix) {
			continue
		}
		r, err := seal.OpenLog(name) // plain or gzip, as logrotate leaves them
		if err != nil {
			t.Fatal(err)
		}
		err = seal.ReadLines(r, func(line []byte) error {
			l, err := psono.Parse(string(line))
			if err != nil {
				return fmt.Errorf("%s: torn or malformed line %q: %w", name, line, err)
			}
			if len(l.Pairs) != 9 || l.Pairs[8].Key != "kwarg_share_id" {
				return fmt.Errorf("%s: line with wrong fields: %s", name, line)
			}
			ids[l.Pairs[8].Value]++
			total++
			return nil
		})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids, total
}

// TestLoad50k: 50,000 requests from 64 concurrent keep-alive clients give
// exactly 50,000 well-formed lines, one per request.
func TestLoad50k(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	base, logPath, stop := demotest.Start(t, run, "")
	const total, workers = 50000, 64
	client := loadClient(workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				resp, err := client.Get(fmt.Sprintf("%s/share/id-%d/", base, i))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	ids, n := shareIDs(t, filepath.Dir(logPath))
	if n != total || len(ids) != total {
		t.Fatalf("%d lines with %d distinct requests, want %d", n, len(ids), total)
	}
}

// demoDir holds the demo binary of this test run; TestMain removes it.
var demoDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "otelaudit-demo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildDemo builds the demo server binary once per test run.
var buildDemo = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(demoDir, "server")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// process is a demo server started by startDemo.
type process struct {
	*testproc.Process
	base string // http://127.0.0.1:port
	dir  string // LOGGING_AUDIT_FOLDER
}

// startDemo runs the demo binary with a settings file and waits until it
// listens. The demo stops at test cleanup.
func startDemo(t *testing.T, settings string) *process {
	t.Helper()
	bin, err := buildDemo()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(sp, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+filepath.Join(dir, "log")+"\n"+settings), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &process{dir: filepath.Join(dir, "log")}
	p.Process = &testproc.Process{
		Path:    bin,
		Args:    []string{"-settings", sp, "-listen", "127.0.0.1:0"},
		LogPath: filepath.Join(dir, "demo.log"),
		// Not an HTTP check: every request would add an audit line.
		Ready: func(context.Context) error {
			if _, ok := p.LogLine("listening on "); !ok {
				return errors.New("not listening yet")
			}
			return nil
		},
	}
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.base, _ = p.LogLine("listening on ")
	return p
}

// load sends requests from n workers until stop is closed or the server
// stops answering; it returns the share ids of the requests that got a
// response.
func load(base string, n int, stop <-chan struct{}, answered *atomic.Int64) []string {
	client := loadClient(n)
	var mu sync.Mutex
	var got []string
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("id-%d", next.Add(1))
				resp, err := client.Get(base + "/share/" + id + "/")
				if err != nil {
					return // the server is going away
				}
				resp.Body.Close()
				mu.Lock()
				got = append(got, id)
				mu.Unlock()
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	return got
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSIGTERMUnderLoad sends SIGTERM to the demo while 32 clients hammer
// it: the process must exit cleanly, and every request that got a response
// must have exactly one line.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo binary")
	}
	p := startDemo(t, "")
	var answered atomic.Int64
	stop := make(chan struct{})
	result := make(chan []string, 1)
	go func() { result <- load(p.base, 32, stop, &answered) }()
	waitFor(t, "2000 answered requests", func() bool { return answered.Load() >= 2000 })
	// SIGTERM; an error if the demo does not exit within 60s or fails.
	if err := p.Stop(60 * time.Second); err != nil {
		t.Fatalf("demo after SIGTERM: %v", err)
	}
	close(stop)
	got := <-result
	ids, total := shareIDs(t, p.dir)
	for _, id := range got {
		if ids[id] != 1 {
			t.Fatalf("request %s got a response but has %d lines", id, ids[id])
		}
	}
	if total < len(got) || len(ids) != total {
		t.Fatalf("%d lines, %d distinct, for %d answered requests", total, len(ids), len(got))
	}
	t.Logf("%d answered requests, %d lines (the rest were cut off mid-response)", len(got), total)
}

// TestLogrotate rotates audit.log with Debian's logrotate five times
// during load, with README's rule as it stands (nocreate, compress,
// delaycompress, postrotate sending SIGHUP; only the path and the
// postrotate command are the test's): the lines across all files, plain
// and compressed, are exactly the answered requests, none twice.
func TestLogrotate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo binary")
	}
	lr, err := exec.LookPath("logrotate")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("logrotate is not installed; .ci/run installs Debian's logrotate package")
		}
		t.Skip("logrotate is not installed (apt-get install logrotate)")
	}
	rule := readmeLogrotate(t)
	for _, want := range []string{"/var/log/psono/audit.log {", "nocreate", "systemctl kill --signal=HUP psono-server.service"} {
		if !strings.Contains(rule, want) {
			t.Fatalf("README's logrotate rule lost %q:\n%s", want, rule)
		}
	}
	p := startDemo(t, "")
	rule = strings.Replace(rule, "/var/log/psono/audit.log", filepath.Join(p.dir, "audit.log"), 1)
	rule = strings.Replace(rule, "systemctl kill --signal=HUP psono-server.service", fmt.Sprintf("kill -HUP %d", p.Pid()), 1)
	conf := filepath.Join(t.TempDir(), "logrotate.conf")
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(conf, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	var answered atomic.Int64
	stop := make(chan struct{})
	result := make(chan []string, 1)
	go func() { result <- load(p.base, 16, stop, &answered) }()
	for i := 1; i <= 5; i++ {
		target := int64(i * 1000)
		waitFor(t, "load", func() bool { return answered.Load() >= target })
		if out, err := exec.Command(lr, "-f", "-s", state, conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
	}
	waitFor(t, "load after the last rotation", func() bool { return answered.Load() >= 6000 })
	close(stop)
	got := <-result
	if err := p.Stop(60 * time.Second); err != nil {
		t.Fatalf("demo after SIGTERM: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(p.dir, "audit.log*"))
	if len(files) != 6 {
		t.Errorf("%d audit files after 5 rotations, want 6: %v", len(files), files)
	}
	gz := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() == 0 && !strings.HasSuffix(f, "audit.log") {
			t.Errorf("rotated file %s is empty", f)
		}
		if strings.HasSuffix(f, ".gz") {
			gz++
		}
	}
	if gz == 0 {
		t.Errorf("no compressed file after five rotations with compress and delaycompress: %v", files)
	}
	ids, total := shareIDs(t, p.dir)
	if total != len(got) || len(ids) != len(got) {
		t.Fatalf("%d lines (%d distinct) across %d files for %d answered requests", total, len(ids), len(files), len(got))
	}
	for _, id := range got {
		if ids[id] != 1 {
			t.Fatalf("request %s has %d lines", id, ids[id])
		}
	}
}
