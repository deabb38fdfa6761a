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

// TestCollectorCopyDecides: someone who can write to the audit folder, but
// has no key, rewrites history while the service is stopped and lets a
// routine restart seal the result. With the checkpoints the real collector
// received, verify fails for each rewrite, even when the host's checkpoints
// file was deleted or emptied before the restart.
func TestCollectorCopyDecides(t *testing.T) {
	skipShort(t)
	edit := func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, bytes.Replace(b, []byte("/info/3/"), []byte("/info/X/"), 1), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		attack func(t *testing.T, logPath string)
	}{
		{"checkpoints deleted, a line edited", func(t *testing.T, logPath string) {
			os.Remove(logPath + seal.CheckpointsSuffix)
			edit(t, logPath)
		}},
		{"checkpoints emptied, a line edited", func(t *testing.T, logPath string) {
			os.WriteFile(logPath+seal.CheckpointsSuffix, nil, 0o600)
			edit(t, logPath)
		}},
		{"rolled back: the newest lines and checkpoints cut", func(t *testing.T, logPath string) {
			b, _ := os.ReadFile(logPath)
			lines := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(logPath, bytes.Join(lines[:10], nil), 0o600)
			cp, _ := os.ReadFile(logPath + seal.CheckpointsSuffix)
			// Keep the checkpoints up to the one of 10 lines.
			i := bytes.Index(cp, []byte("\n10\n"))
			j := bytes.Index(cp[i:], []byte("\n-- otelaudit checkpoint\n"))
			os.WriteFile(logPath+seal.CheckpointsSuffix, cp[:i+j+1], 0o600)
		}},
		{"a line edited", func(t *testing.T, logPath string) { edit(t, logPath) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"), collectortest.WithExporters("logs", "file"))
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+c.HTTPEndpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
			keyDir, dir := t.TempDir(), t.TempDir()
			keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-test")
			if err != nil {
				t.Fatal(err)
			}
			s := config.Default()
			s.Enabled, s.Folder, s.SealKey, s.SealEvery, s.SealInterval = true, dir, keyPath, 10, 0
			requests := 0
			run := func(n int) int {
				a, err := otelaudit.New(s, otelaudit.WithHostName("audit-host"), otelaudit.WithErrorLog(func(error) {}))
				if err != nil {
					t.Fatal(err)
				}
				mux := http.NewServeMux()
				mux.HandleFunc("GET /info/{n}/", func(w http.ResponseWriter, r *http.Request) {
					instrument.SetEvent(r.Context(), "READ_INFO_SUCCESS")
				})
				srv := httptest.NewServer(a.Handler(mux))
				for i := 0; i < n; i++ {
					resp, err := http.Get(fmt.Sprintf("%s/info/%d/", srv.URL, requests))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					requests++
				}
				srv.Close()
				if err := a.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
				return n
			}
			sent := run(25)
			tt.attack(t, s.LogPath())
			sent += run(3) // the routine restart

			v, err := seal.LoadVerifier(pubPath)
			if err != nil {
				t.Fatal(err)
			}
			// Every checkpoint the collector received, into one file.
			// Every checkpoint the collector received, into one file: the
			// requests and at least a start and a close of each run.
			var entries bytes.Buffer
			for _, r := range c.WaitForLogs(sent+4, time.Minute) {
				if r.EventName == psono.CheckpointEvent {
					entry, _ := r.Attributes[string(psono.LogCheckpoint)].(string)
					entries.WriteString(entry)
				}
			}
			copyPath := filepath.Join(keyDir, "collector.checkpoints")
			if err := os.WriteFile(copyPath, entries.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := seal.Verify([]string{s.LogPath(), copyPath}, v)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || len(rep.Problems) == 0 {
				t.Fatalf("with the collector's copy, verify accepted the rewrite: files %+v, adopted %q", rep.Files, rep.Adopted)
			}
			t.Logf("first problem: %s", rep.Problems[0])
			host, err := seal.Verify([]string{s.LogPath()}, v)
			if err != nil {
				t.Fatal(err)
			}
			// A rollback to an earlier, consistent state leaves no trace on
			// the host (README, threat model); every other rewrite does.
			if !strings.HasPrefix(tt.name, "rolled back") && host.OK() && len(host.Adopted) == 0 {
				t.Errorf("on the host alone, the rewrite left no trace: not even adopted lines")
			}
			if strings.Contains(tt.name, "edited") && !strings.Contains(tt.name, "checkpoints") && host.OK() {
				t.Errorf("a line edited while stopped verifies on the host alone after a restart")
			}
		})
	}
}
