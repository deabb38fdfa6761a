// Package vlogstest runs VictoriaLogs, a log database that accepts OTLP and
// builds with go install, as a real log backend for tests.
//
// [Binary] installs github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
// once into the test cache (see internal/testcache); [Start] runs it on a free
// loopback port with a temporary storage directory; [Server.Query] runs a
// LogsQL query.
//
// How VictoriaLogs v1.52.1 stores an OTLP log record (read from its
// app/vlinsert/opentelemetry and checked by the tests of this package and of
// examples/collector):
//   - resource attributes and record attributes become fields named by their
//     keys ("service.name", "audit.logger", ...), in one namespace: a record
//     attribute host.name and a resource attribute host.name are one field;
//   - the resource attributes form the stream (_stream), and the record's
//     EventName is kept as the field "event_name", which is added to the
//     stream as well: {event_name="...",host.name="...",service.name="..."};
//   - trace and span ids become "trace_id" and "span_id" (lower-case hex);
//   - the severity becomes "severity_number" and "severity_text" (without a
//     SeverityText, the number's name, such as "Info");
//   - the body becomes the message "_msg"; an empty body leaves the text
//     "missing _msg field; see https://docs.victoriametrics.com/..." there;
//   - the timestamp becomes "_time" (RFC 3339, UTC, nanoseconds trimmed);
//   - the scope becomes "scope.name" and "scope.version".
//
// Query results hold every value as a string: true, 200.
package vlogstest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testcache"
	"github.com/otelaudit/otelaudit/internal/testproc"
)

// Package and Version name the VictoriaLogs build that [Binary] installs.
const (
	Package = "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"
	Version = "v1.52.1"
)

// BuildBinary returns the path of the cached victoria-logs binary, running
// go install (with GOBIN in a cache work directory) when it is not there yet.
// logf and out, when not nil, receive progress messages and the go command's
// output.
func BuildBinary(ctx context.Context, logf func(string, ...any), out io.Writer) (string, error) {
	name := "victoria-logs"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	entry := fmt.Sprintf("victorialogs-%s-%s-%s", Version, runtime.GOOS, runtime.GOARCH)
	return testcache.Ensure(ctx, entry, name, logf, func(ctx context.Context, work string) (string, error) {
		if logf != nil {
			logf("vlogstest: go install %s@%s (about a minute or two when cold)", Package, Version)
		}
		gobin := filepath.Join(work, "bin")
		if err := testcache.RunGo(ctx, work, []string{"GOBIN=" + gobin, "CGO_ENABLED=0"}, out,
			"install", "-trimpath", "-ldflags=-s -w", Package+"@"+Version); err != nil {
			return "", err
		}
		return filepath.Join(gobin, name), nil
	})
}

// Binary returns the path of the cached victoria-logs binary, installing it
// on first use; it fails t when that fails.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := BuildBinary(t.Context(), func(format string, args ...any) {
		t.Logf(format, args...)
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}, nil)
	if err != nil {
		t.Fatalf("vlogstest: %v", err)
	}
	return bin
}

// Server is a VictoriaLogs instance started by [Start].
type Server struct {
	// URL is the base URL, http://127.0.0.1:<port>.
	URL string
	// OTLPEndpoint is the base URL of the OTLP/HTTP ingestion API, for an
	// otlp_http exporter's endpoint (the exporter appends /v1/logs).
	OTLPEndpoint string
	// DataDir is the storage directory.
	DataDir string

	t    testing.TB
	proc *testproc.Process
}

// Start runs VictoriaLogs on a free loopback port with a temporary storage
// directory and waits until /health answers. It stops at test cleanup. The
// retention is 100 years, so that records with old timestamps (such as the
// 2020 lines of Psono's documentation) are accepted.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	ports, err := testproc.FreePorts(1)
	if err != nil {
		t.Fatalf("vlogstest: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	s := &Server{
		URL:     "http://" + addr,
		DataDir: filepath.Join(dir, "data"),
		t:       t,
	}
	s.OTLPEndpoint = s.URL + "/insert/opentelemetry"
	s.proc = &testproc.Process{
		Path: bin,
		Args: []string{
			"-httpListenAddr=" + addr,
			"-storageDataPath=" + s.DataDir,
			"-retentionPeriod=100y",
			"-loggerLevel=WARN",
		},
		Dir:     dir,
		LogPath: filepath.Join(dir, "victoria-logs.log"),
		Ready:   testproc.HTTPReady(s.URL + "/health"),
	}
	t.Cleanup(func() {
		if err := s.proc.Stop(30 * time.Second); err != nil {
			t.Errorf("vlogstest: stop: %v", err)
		}
		if t.Failed() {
			t.Logf("vlogstest: end of %s:\n%s", s.proc.LogPath, s.proc.LogTail(40))
		}
	})
	if err := s.proc.Start(t.Context()); err != nil {
		t.Fatalf("vlogstest: %v", err)
	}
	return s
}

// Query runs a LogsQL query (/select/logsql/query) and returns its rows, one
// map of field name to value per log entry. It first asks VictoriaLogs to
// make recently ingested data searchable (/internal/force_flush), so a query
// right after an insert sees it.
func (s *Server) Query(t testing.TB, logsql string) []map[string]string {
	t.Helper()
	rows, err := s.query(t.Context(), logsql)
	if err != nil {
		t.Fatalf("vlogstest: %v", err)
	}
	return rows
}

// WaitQuery repeats a LogsQL query until it returns at least n rows and
// returns them; it fails t after timeout. Records pass through a collector's
// batch processor before VictoriaLogs sees them, hence the polling.
func (s *Server) WaitQuery(t testing.TB, logsql string, n int, timeout time.Duration) []map[string]string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		rows, err := s.query(t.Context(), logsql)
		if err != nil {
			t.Fatalf("vlogstest: %v", err)
		}
		if len(rows) >= n {
			return rows
		}
		select {
		case <-deadline.C:
			t.Fatalf("vlogstest: query %q: waited %s for %d rows, have %d: %v", logsql, timeout, n, len(rows), rows)
		case <-tick.C:
		}
	}
}

func (s *Server) query(ctx context.Context, logsql string) ([]map[string]string, error) {
	if err := s.get(ctx, "/internal/force_flush"); err != nil {
		return nil, err
	}
	form := url.Values{"query": {logsql}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/select/logsql/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", logsql, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("query %q: %s: %s", logsql, resp.Status, body)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			return nil, fmt.Errorf("query %q: decode %q: %w", logsql, line, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("query %q: read: %w", logsql, err)
	}
	return rows, nil
}

func (s *Server) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// Stop stops VictoriaLogs (it flushes its data to DataDir).
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.proc.Stop(30 * time.Second); err != nil {
		s.t.Errorf("vlogstest: stop: %v", err)
	}
}

// Restart starts a stopped VictoriaLogs again on the same port and storage.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.proc.Start(s.t.Context()); err != nil {
		s.t.Fatalf("vlogstest: restart: %v", err)
	}
}
