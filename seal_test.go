package otelaudit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/seal"
)

// findLogrotate returns the path of logrotate, or skips the test.
func findLogrotate(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("logrotate"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("logrotate is not installed (apt-get install -y logrotate)")
	return ""
}

// readLog returns the lines of a plain or gzip-compressed audit log, with
// their newlines.
func readLog(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	return lines[:len(lines)-1]
}

// auditLogs returns audit.log and its rotated files in dir.
func auditLogs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "audit.log*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range m {
		if !strings.HasSuffix(p, seal.CheckpointsSuffix) {
			out = append(out, p)
		}
	}
	return out
}

func recordPosition(r *sdklog.Record) (tree, index int64, ok bool) {
	n := 0
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case psono.LogTree:
			tree, n = kv.Value.AsInt64(), n+1
		case psono.LogIndex:
			index, n = kv.Value.AsInt64(), n+1
		}
		return true
	})
	return tree, index, n == 2
}

func recordString(r *sdklog.Record, key attribute.Key) string {
	var v string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == key {
			v = kv.Value.AsString()
			return false
		}
		return true
	})
	return v
}

// TestSealedPipeline runs a sealed pipeline (LOGGING_AUDIT_SEAL_KEY in a
// settings file) with a forwarder through real requests and three
// rotations by logrotate (compress on), each followed by Reopen as on
// SIGHUP. seal.Verify, what "otelaudit verify" runs, proves every line of
// the four files; every forwarded record carries the position of its line;
// the checkpoints are forwarded, in spite of a whitelist that does not name
// them, and never written to audit.log; and the forwarded checkpoints,
// given to Verify as the collector's copy, agree with the host's files.
func TestSealedPipeline(t *testing.T) {
	logrotate := findLogrotate(t)
	keyDir, dir := t.TempDir(), t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(keyDir, "settings.yaml")
	text := fmt.Sprintf("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: %s\nLOGGING_AUDIT_WHITELIST: ['READ_*']\nLOGGING_AUDIT_SEAL_KEY: %s\nLOGGING_AUDIT_SEAL_EVERY: 7\nLOGGING_AUDIT_SEAL_INTERVAL: 0\n", dir, keyPath)
	if err := os.WriteFile(settings, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.Load(settings)
	if err != nil {
		t.Fatal(err)
	}
	forwarded := &sdklogtest.Recorder{}
	a, err := otelaudit.New(s, otelaudit.WithHostName("audit-host"), otelaudit.WithForwardExporter(forwarded))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /event/{code}/{n}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), r.PathValue("code"))
	})
	srv := httptest.NewServer(a.Handler(mux))
	defer srv.Close()
	n, logged := 0, 0
	get := func(count int) {
		for i := 0; i < count; i++ {
			if i%5 != 4 {
				logged++
			}
		}
		var wg sync.WaitGroup
		for g := 0; g < 3; g++ {
			wg.Add(1)
			go func(first int) {
				defer wg.Done()
				for i := first; i < count; i += 3 {
					code := "READ_INFO_SUCCESS"
					if i%5 == 4 {
						code = "LOGIN_ERROR" // not whitelisted
					}
					resp, err := http.Get(fmt.Sprintf("%s/event/%s/%d/", srv.URL, code, n+i))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}
			}(g)
		}
		wg.Wait()
		n += count
	}

	conf := filepath.Join(keyDir, "logrotate.conf")
	cfg := fmt.Sprintf("%s {\n\trotate 5\n\tcompress\n\tcreate 0600\n\tmissingok\n}\n", s.LogPath())
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, count := range []int{30, 12, 41, 9} {
		get(count)
		if i == 3 {
			break
		}
		out, err := exec.Command(logrotate, "-f", "-s", filepath.Join(keyDir, "state"), conf).CombinedOutput()
		if err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		if err := a.Reopen(); err != nil { // what SIGHUP does
			t.Fatal(err)
		}
	}
	if err := a.Reopen(); err != nil { // a SIGHUP without a rotation
		t.Fatal(err)
	}
	get(6)
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	v, err := seal.LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	files := auditLogs(t, dir)
	rep, err := seal.Verify(files, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Adopted) != 0 || len(rep.Files) != 4 {
		t.Fatalf("verify %v: problems %v, tail %q, adopted %q, files %+v", files, rep.Problems, rep.Tail, rep.Adopted, rep.Files)
	}
	lines := map[int64][][]byte{} // by tree
	total := 0
	for i, f := range rep.Files {
		if f.Tree != int64(i+1) || f.Proven != f.Lines {
			t.Errorf("file %+v", f)
		}
		lines[f.Tree] = readLog(t, f.Path)
		total += len(lines[f.Tree])
		for _, l := range lines[f.Tree] {
			if bytes.Contains(l, []byte(psono.CheckpointEvent)) || !bytes.Contains(l, []byte("event=READ_INFO_SUCCESS")) {
				t.Errorf("%s holds %q", f.Path, l)
			}
		}
	}
	if total != logged {
		t.Errorf("the audit logs hold %d lines, want %d", total, logged)
	}

	var cpEntries bytes.Buffer
	seen := map[[2]int64]bool{}
	requests := 0
	recs := forwarded.Records()
	for i := range recs {
		r := &recs[i]
		if r.EventName() == psono.CheckpointEvent {
			entry := recordString(r, psono.LogCheckpoint)
			if !strings.HasPrefix(entry, "-- otelaudit checkpoint\n") || recordString(r, psono.LogFile) != s.LogPath() ||
				recordString(r, psono.Logger.Attr) != "otelaudit.seal" || r.Resource().Len() == 0 {
				t.Errorf("checkpoint record: %v", r)
			}
			cpEntries.WriteString(entry)
			continue
		}
		requests++
		tree, index, ok := recordPosition(r)
		if !ok || index < 0 || index >= int64(len(lines[tree])) || seen[[2]int64{tree, index}] {
			t.Errorf("forwarded record with position %d/%d (%v), seen before: %v", tree, index, ok, seen[[2]int64{tree, index}])
			continue
		}
		seen[[2]int64{tree, index}] = true
		if want := exporter.AppendLine(nil, r, time.UTC); !bytes.Equal(lines[tree][index], want) {
			t.Errorf("record at %d/%d is\n%s\nthe line there is\n%s", tree, index, want, lines[tree][index])
		}
	}
	if requests != total {
		t.Errorf("%d request records forwarded for %d lines", requests, total)
	}
	if got := strings.Count(cpEntries.String(), "-- otelaudit checkpoint\n"); got != rep.Checkpoints || got < 4*2+1 {
		t.Errorf("%d checkpoints forwarded, %d in the checkpoints file", got, rep.Checkpoints)
	}

	// The collector's copy, verified with the host's files.
	copyPath := filepath.Join(keyDir, "collector.checkpoints")
	if err := os.WriteFile(copyPath, cpEntries.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err = seal.Verify(append(files, copyPath), v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Adopted) != 0 {
		t.Fatalf("verify with the forwarded checkpoints: problems %v, tail %q, adopted %q", rep.Problems, rep.Tail, rep.Adopted)
	}
	// The newest lines deleted on the host, with their checkpoints: the
	// host's files alone look intact, the forwarded copy says otherwise.
	newest := filepath.Join(dir, "audit.log")
	cut := readLog(t, newest)
	if err := os.WriteFile(newest, bytes.Join(cut[:3], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(newest+seal.CheckpointsSuffix, filepath.Join(keyDir, "old.checkpoints")); err != nil {
		t.Fatal(err)
	}
	if rep, err = seal.Verify(append(files, copyPath), v); err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Errorf("verify with the forwarded checkpoints accepted audit.log cut to 3 of its %d lines", len(cut))
	}
}

// TestSealKeyErrors: a key file that cannot be used stops New with an error
// naming the setting and its line.
func TestSealKeyErrors(t *testing.T) {
	keyDir := t.TempDir()
	_, pubPath, err := seal.WriteKeyFiles(keyDir, "k")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ key, msg string }{
		{filepath.Join(keyDir, "missing.key"), "no such file"},
		{pubPath, "is not a private key"},
	} {
		dir := t.TempDir()
		settings := filepath.Join(dir, "settings.yaml")
		text := fmt.Sprintf("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: %s\nLOGGING_AUDIT_SEAL_KEY: %s\n", filepath.Join(dir, "log"), tt.key)
		if err := os.WriteFile(settings, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := config.Load(settings)
		if err != nil {
			t.Fatal(err)
		}
		a, err := otelaudit.New(s)
		if err == nil {
			_ = a.Shutdown(context.Background())
			t.Fatalf("New with LOGGING_AUDIT_SEAL_KEY %s: no error", tt.key)
		}
		if prefix := settings + ":3: LOGGING_AUDIT_SEAL_KEY: "; !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("New: %v; want %q...%q", err, prefix, tt.msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "log", "audit.log")); err == nil {
			t.Error("audit.log was created although sealing failed")
		}
	}
}
