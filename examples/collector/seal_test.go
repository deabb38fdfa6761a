package collector_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// TestSealedForwarding runs a sealed otelaudit pipeline (LOGGING_AUDIT_SEAL_KEY)
// that forwards, configured by the standard environment variables only, to
// the real example collector (otlp-to-backend.yaml, its output sent to the
// file exporter): every request record arrives with the position of its
// line in the sealed files, exactly once; every checkpoint arrives as an
// AUDIT_LOG_CHECKPOINT record; and the checkpoints the collector received,
// exported into one file, verify together with the host's files.
func TestSealedForwarding(t *testing.T) {
	skipShort(t)
	c := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"), collectortest.WithExporters("logs", "file"))
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+c.HTTPEndpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "psono-sealed")

	keyDir, dir := t.TempDir(), t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	s := config.Default()
	s.Enabled, s.Folder, s.SealKey, s.SealEvery, s.SealInterval = true, dir, keyPath, 10, 0
	a, err := otelaudit.New(s, otelaudit.WithHostName("audit-host"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /info/{n}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "READ_INFO_SUCCESS")
	})
	srv := httptest.NewServer(a.Handler(mux))
	defer srv.Close()
	n := 0
	get := func(count int) {
		for ; count > 0; count-- {
			resp, err := http.Get(fmt.Sprintf("%s/info/%d/", srv.URL, n))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			n++
		}
	}
	get(25)
	if err := os.Rename(s.LogPath(), s.LogPath()+".1"); err != nil { // logrotate
		t.Fatal(err)
	}
	if err := a.Reopen(); err != nil { // SIGHUP
		t.Fatal(err)
	}
	get(13)
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := a.ForwardDropped(); d != 0 {
		t.Fatalf("%d records dropped by the forwarder", d)
	}

	v, err := seal.LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{s.LogPath() + ".1", s.LogPath()}
	rep, err := seal.Verify(files, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Adopted) != 0 {
		t.Fatalf("verify: problems %v, tail %q, adopted %q", rep.Problems, rep.Tail, rep.Adopted)
	}
	lines := map[int64][]string{}
	for _, f := range rep.Files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		lines[f.Tree] = strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	}
	if len(lines[1]) != 25 || len(lines[2]) != 13 {
		t.Fatalf("files of %d and %d lines, want 25 and 13", len(lines[1]), len(lines[2]))
	}

	recs := c.WaitForLogs(n+rep.Checkpoints, time.Minute)
	if len(recs) != n+rep.Checkpoints {
		t.Errorf("collector received %d records, want %d lines and %d checkpoints", len(recs), n, rep.Checkpoints)
	}
	var entries bytes.Buffer
	seen := map[string]bool{}
	for _, r := range recs {
		tree, _ := r.Attributes[string(psono.LogTree)].(int64)
		if r.EventName == psono.CheckpointEvent {
			entry, _ := r.Attributes[string(psono.LogCheckpoint)].(string)
			size, _ := r.Attributes[string(psono.LogSize)].(int64)
			if tree < 1 || tree > 2 || size > int64(len(lines[tree])) || !strings.HasPrefix(entry, "-- otelaudit checkpoint\n") ||
				r.Resource["service.name"] != "psono-sealed" {
				t.Errorf("checkpoint record: %+v", r)
			}
			entries.WriteString(entry)
			continue
		}
		index, ok := r.Attributes[string(psono.LogIndex)].(int64)
		key := fmt.Sprint(tree, "/", index)
		if !ok || tree < 1 || tree > 2 || index < 0 || index >= int64(len(lines[tree])) || seen[key] {
			t.Errorf("record at %s (duplicate: %v): %v", key, seen[key], r.Attributes)
			continue
		}
		seen[key] = true
		line := lines[tree][index]
		if !strings.Contains(line, "req_url="+r.Attributes[string(psono.ReqURL.Attr)].(string)+",") {
			t.Errorf("record at %s has url %v; the line there is %s", key, r.Attributes[string(psono.ReqURL.Attr)], line)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct positions for %d lines", len(seen), n)
	}

	// The collector's copy of the checkpoints verifies with the host's files.
	copyPath := filepath.Join(keyDir, "collector.checkpoints")
	if err := os.WriteFile(copyPath, entries.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err = seal.Verify(append(files, copyPath), v); err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Adopted) != 0 {
		t.Errorf("verify with the collector's checkpoints: problems %v, tail %q, adopted %q", rep.Problems, rep.Tail, rep.Adopted)
	}
}
