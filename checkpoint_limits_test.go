package otelaudit_test

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

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/seal"
)

// TestSDKLimitsDoNotChangeTheCheckpoints: the OpenTelemetry SDK's attribute
// limits, set in the environment for telemetry, must not cut or drop
// anything of a forwarded AUDIT_LOG_CHECKPOINT record: every attribute is
// there, with its whole value, each checkpoint note is byte for byte the
// entry in audit.log.checkpoints, and the forwarded notes, as the
// collector's copy, verify the host's audit.log.
func TestSDKLimitsDoNotChangeTheCheckpoints(t *testing.T) {
	const length, count = "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT"
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"both", map[string]string{length: "16", count: "2"}},
		{"value_length", map[string]string{length: "16"}},
		{"count", map[string]string{count: "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			checkpointsWhole(t)
		})
	}
}

// checkpointsWhole runs a sealed pipeline with a forwarder and checks every
// forwarded checkpoint record against audit.log.checkpoints.
func checkpointsWhole(t *testing.T) {
	keyDir, dir := t.TempDir(), t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-limits-test")
	if err != nil {
		t.Fatal(err)
	}
	s := config.Default()
	s.Enabled, s.Folder = true, dir
	s.SealKey, s.SealEvery, s.SealInterval = keyPath, 3, 0
	const host = "a-host-name-longer-than-sixteen-bytes"
	forwarded := &sdklogtest.Recorder{}
	a, err := otelaudit.New(s, otelaudit.WithHostName(host), otelaudit.WithForwardExporter(forwarded))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "READ_INFO_SUCCESS")
	})))
	for i := range 7 {
		resp, err := http.Get(fmt.Sprintf("%s/item/%d/", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	cpFile, err := os.ReadFile(s.LogPath() + seal.CheckpointsSuffix)
	if err != nil {
		t.Fatal(err)
	}
	var notes bytes.Buffer
	n := 0
	recs := forwarded.Records()
	for i := range recs {
		r := &recs[i]
		if r.EventName() != psono.CheckpointEvent {
			continue
		}
		n++
		got := map[attribute.Key]attribute.Value{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			got[kv.Key] = kv.Value
			return true
		})
		if r.DroppedAttributes() != 0 {
			t.Errorf("checkpoint %d: %d attributes dropped", n, r.DroppedAttributes())
		}
		for key, want := range map[attribute.Key]string{
			psono.Logger.Attr:   "otelaudit.seal",
			psono.Success.Attr:  "true",
			psono.Hostname.Attr: host,
			psono.LogFile:       s.LogPath(),
		} {
			if v, ok := got[key]; !ok || v.String() != want {
				t.Errorf("checkpoint %d: %s = %q (present %v), want %q", n, key, v.String(), ok, want)
			}
		}
		if v, ok := got[psono.LogTree]; !ok || v.Type() != attribute.INT64 || v.AsInt64() < 1 {
			t.Errorf("checkpoint %d: %s = %v (present %v), want a number from 1", n, psono.LogTree, v.String(), ok)
		}
		if v, ok := got[psono.LogSize]; !ok || v.Type() != attribute.INT64 || v.AsInt64() < 0 {
			t.Errorf("checkpoint %d: %s = %v (present %v), want a number from 0", n, psono.LogSize, v.String(), ok)
		}
		// The checkpoint's 7, and the 3 the spool adds to every record it
		// sends (spool.RecordUID, spool.Origin, spool.SpoolSeq).
		if len(got) != 7+3 {
			t.Errorf("checkpoint %d has %d attributes, want 10: %v", n, len(got), got)
		}
		note := got[psono.LogCheckpoint].AsString()
		if !strings.HasPrefix(note, "-- otelaudit checkpoint\n") || !strings.HasSuffix(note, "\n") ||
			!bytes.Contains(cpFile, []byte(note)) {
			t.Errorf("checkpoint %d: the note (%d bytes) is not an entry of %s:\n%q", n, len(note), seal.CheckpointsSuffix, note)
		}
		notes.WriteString(note)
	}
	if n < 2 {
		t.Fatalf("%d checkpoint records forwarded, want at least 2 (7 lines sealed every 3, and at shutdown)", n)
	}

	// The forwarded notes, as the collector's copy, prove audit.log.
	v, err := seal.LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(keyDir, "collector.checkpoints")
	if err := os.WriteFile(copyPath, notes.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := seal.Verify([]string{s.LogPath()}, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Checkpoints != n {
		t.Errorf("verify: problems %v, tail %q, %d checkpoints on the host, %d forwarded", rep.Problems, rep.Tail, rep.Checkpoints, n)
	}
	if rep, err = seal.Verify([]string{s.LogPath(), copyPath}, v); err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify with the forwarded checkpoints: problems %v, tail %q", rep.Problems, rep.Tail)
	}
}
