package otelaudit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/fulldisk"
	"github.com/otelaudit/otelaudit/internal/metrictest"
	"github.com/otelaudit/otelaudit/psono"
)

// fullDisk makes settings whose audit folder is on a small real file system
// (a tmpfs) that the test fills up with disk.Fill once the pipeline has
// opened audit.log, so that every write fails with ENOSPC, and frees with
// disk.Free.
func fullDisk(t *testing.T) (config.Settings, *fulldisk.Disk) {
	t.Helper()
	disk := fulldisk.New(t)
	s := config.Default()
	s.Enabled = true
	s.Folder = disk.Dir
	return s, disk
}

type testServer struct {
	url        string
	calls      atomic.Int64
	auditor    *otelaudit.Auditor
	reader     *sdkmetric.ManualReader
	errs       atomic.Int64
	fallback   syncBuffer
	duringWork atomic.Pointer[func()] // run by the next /work/ request
	close      func()
}

// syncBuffer is a fallback writer a test can read while the pipeline writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func start(t *testing.T, s config.Settings) *testServer {
	t.Helper()
	ts := &testServer{reader: sdkmetric.NewManualReader()}
	a, err := otelaudit.New(s,
		otelaudit.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(ts.reader))),
		otelaudit.WithErrorLog(func(error) { ts.errs.Add(1) }),
		otelaudit.WithFallback(&ts.fallback))
	if err != nil {
		t.Fatal(err)
	}
	ts.auditor = a
	mux := http.NewServeMux()
	mux.HandleFunc("/work/", func(w http.ResponseWriter, r *http.Request) {
		ts.calls.Add(1)
		if f := ts.duringWork.Swap(nil); f != nil {
			(*f)()
		}
		instrument.SetEvent(r.Context(), "WORK_SUCCESS")
		w.Header().Set("X-Done", "yes")
		io.WriteString(w, "done")
	})
	srv := httptest.NewServer(a.Handler(mux))
	ts.url = srv.URL
	ts.close = func() {
		srv.Close()
		_ = a.Shutdown(context.Background())
	}
	t.Cleanup(ts.close)
	return ts
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestStrictRefusesWhileUnwritable: with strict mode on, a disk that fills
// up while a handler runs gets that request's response withheld (503, since
// its record failed) and its record into the fallback; while the disk is
// full, requests are refused before their handler runs; once the file can
// be written again requests are served.
func TestStrictRefusesWhileUnwritable(t *testing.T) {
	s, disk := fullDisk(t)
	s.Strict = true
	ts := start(t, s)
	fill := func() { disk.Fill(t) }
	ts.duringWork.Store(&fill)

	code, body, hdr := get(t, ts.url+"/work/1")
	if code != http.StatusServiceUnavailable || strings.Contains(body, "done") || hdr.Get("X-Done") != "" {
		t.Fatalf("request during which the disk filled: %d %q %v; want 503 without the handler's response", code, body, hdr)
	}
	if ts.calls.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1", ts.calls.Load())
	}
	if fb := ts.fallback.String(); !strings.Contains(fb, exporter.FallbackMark) || !strings.Contains(fb, "req_url=/work/1,") {
		t.Errorf("the record of the withheld request is not in the fallback: %q", fb)
	}
	for range 3 {
		if code, _, _ := get(t, ts.url+"/work/2"); code != http.StatusServiceUnavailable {
			t.Fatalf("request while unwritable = %d, want 503", code)
		}
	}
	if ts.calls.Load() != 1 {
		t.Fatalf("handler ran %d times while the audit log was failing, want still 1", ts.calls.Load())
	}
	if got := metrictest.Sum(t, ts.reader, "otelaudit.file.write_errors"); got != 4 {
		t.Errorf("otelaudit.file.write_errors = %d, want 4", got)
	}

	// The disk is back.
	disk.Free(t)
	if code, _, _ := get(t, ts.url+"/work/3"); code != http.StatusServiceUnavailable {
		t.Fatalf("first request after recovery = %d; it is refused, and its record written", code)
	}
	if code, body, hdr := get(t, ts.url+"/work/4"); code != 200 || body != "done" || hdr.Get("X-Done") != "yes" {
		t.Fatalf("request after recovery = %d %q, want 200 done", code, body)
	}
	ts.close()
	data, err := os.ReadFile(s.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "event="+instrument.UnavailableEvent) || !strings.Contains(lines[1], "event=WORK_SUCCESS") {
		t.Errorf("audit.log after recovery:\n%s", data)
	}
}

// TestNonStrictServesAndCounts: with strict mode off, requests are served
// while audit.log cannot be written, and every failure is counted and
// reported (rate-limited).
func TestNonStrictServesAndCounts(t *testing.T) {
	s, disk := fullDisk(t)
	ts := start(t, s)
	disk.Fill(t)
	for i := range 5 {
		if code, body, _ := get(t, fmt.Sprintf("%s/work/%d", ts.url, i)); code != 200 || body != "done" {
			t.Fatalf("request %d = %d %q, want 200", i, code, body)
		}
	}
	if got := metrictest.Sum(t, ts.reader, "otelaudit.file.write_errors"); got != 5 {
		t.Errorf("otelaudit.file.write_errors = %d, want 5", got)
	}
	if got := ts.errs.Load(); got != 1 {
		t.Errorf("%d error reports, want 1 (rate-limited)", got)
	}
	// None of the five records is gone: each is in the fallback, whole.
	ts.close()
	if got := strings.Count(ts.fallback.String(), exporter.FallbackMark+s.LogPath()+": "); got != 5 {
		t.Errorf("fallback holds %d marked records, want 5:\n%s", got, ts.fallback.String())
	}
	if got := ts.errs.Load(); got != 2 {
		t.Errorf("%d error reports after shutdown, want 2 (the first failure, then the rest)", got)
	}
}

// TestDurabilityModes sends concurrent requests under each durability mode
// and finds every line in the file after shutdown; buffered lines appear
// within the flush interval without a shutdown.
func TestDurabilityModes(t *testing.T) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			s := config.Default()
			s.Enabled, s.Durability, s.Folder = true, d, t.TempDir()
			ts := start(t, s)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 25 {
						resp, err := http.Get(fmt.Sprintf("%s/work/%d-%d", ts.url, g, i))
						if err != nil {
							t.Error(err)
							return
						}
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			if d != exporter.Buffered {
				// Write and fsync: on disk before the response.
				if n := countLines(t, s.LogPath()); n != 200 {
					t.Errorf("%d lines before shutdown, want 200", n)
				}
			} else {
				deadline := time.Now().Add(5 * time.Second)
				for countLines(t, s.LogPath()) != 200 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if n := countLines(t, s.LogPath()); n != 200 {
					t.Errorf("%d lines 5s after the requests, want 200", n)
				}
			}
			ts.close()
			if n := countLines(t, s.LogPath()); n != 200 {
				t.Errorf("%d lines after shutdown, want 200", n)
			}
		})
	}
}

// TestPermissions: audit.log 0600 and its folder 0700 when created,
// configurable, and an existing file's mode is respected.
func TestPermissions(t *testing.T) {
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	s := config.Default()
	s.Enabled, s.Folder = true, filepath.Join(t.TempDir(), "a", "b")
	ts := start(t, s)
	get(t, ts.url+"/work/x")
	check(s.LogPath(), 0o600)
	check(s.Folder, 0o700)

	s.Folder, s.FileMode, s.FolderMode = filepath.Join(t.TempDir(), "c"), 0o640, 0o750
	ts = start(t, s)
	get(t, ts.url+"/work/x")
	check(s.LogPath(), 0o640)
	check(s.Folder, 0o750)

	s = config.Default()
	s.Enabled, s.Folder = true, t.TempDir()
	if err := os.WriteFile(s.LogPath(), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.LogPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	ts = start(t, s)
	get(t, ts.url+"/work/x")
	check(s.LogPath(), 0o644)
}

// TestNoLeaksAndLimits: query strings, Authorization, cookies and bodies
// never reach audit.log; a 1 MB path is cut to the documented limit.
func TestNoLeaksAndLimits(t *testing.T) {
	s := config.Default()
	s.Enabled, s.Folder = true, t.TempDir()
	ts := start(t, s)
	req, _ := http.NewRequest("POST", ts.url+"/work/x?password=SECRET1", strings.NewReader("password=SECRET2"))
	req.Header.Set("Authorization", "Token SECRET3")
	req.Header.Set("Cookie", "session=SECRET4")
	req.Header.Set("User-Agent", strings.Repeat("SECRET5", 100000))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// net/http itself refuses request heads over 1 MB (431) before any
	// handler runs, so the longest path a handler can see is just below.
	huge := "/work/" + strings.Repeat("p", 900<<10)
	req, _ = http.NewRequest("GET", ts.url+huge, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ts.close()
	data, err := os.ReadFile(s.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "SECRET") {
		t.Errorf("a secret reached audit.log:\n%.500s", data)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	for _, line := range lines {
		if len(line) > 2*instrument.DefaultMaxValueLength {
			t.Errorf("line of %d bytes; values are limited to %d", len(line), instrument.DefaultMaxValueLength)
		}
		l, err := psono.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := l.Get("req_url"); len(u) > instrument.DefaultMaxValueLength || (strings.HasPrefix(u, "/work/ppp") && !strings.HasSuffix(u, instrument.TruncatedMark)) {
			t.Errorf("req_url of %d bytes not cut and marked", len(u))
		}
	}
	if l, _ := psono.Parse(lines[1]); !strings.HasSuffix(l.Pairs[3].Value, instrument.TruncatedMark) {
		t.Errorf("the long path's req_url is not marked as cut: %.100s", lines[1])
	}
}
