package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	fileexp "github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestGapsLogs: audit.log written by the file exporter without sealing
// across two rotations (the oldest file compressed, so only its place among
// the files gives its number; the middle one found by audit.chain); the
// backend holds every position but a few: gaps -logs names exactly those
// lines, with their text, and marks the one a drop record announced.
func TestGapsLogs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	f, err := fileexp.NewFile(path, fileexp.WithFallback(nil))
	if err != nil {
		t.Fatal(err)
	}
	rec := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(f), sdklog.WithProcessor(rec))
	emit := func(n int, from int) {
		for i := range n {
			var r otellog.Record
			r.SetTimestamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			r.SetEventName("READ_X_SUCCESS")
			r.AddAttributes(attribute.String(string(psono.ReqURL.Attr), fmt.Sprintf("/x/%d/", from+i)))
			lp.Logger("t").Emit(context.Background(), r)
		}
	}
	emit(5, 0)
	rotate := func(to string) {
		if err := os.Rename(path, to); err != nil {
			t.Fatal(err)
		}
		if err := f.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	rotate(path + ".2")
	emit(4, 100)
	rotate(path + ".1")
	emit(6, 200)
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The oldest file compressed, as logrotate's compress leaves it (the
	// modification time kept, as gzip does).
	gzipFile(t, path+".2")

	// What arrived: every record's position but file 1 line 3, file 2
	// lines 0-1 (announced as dropped) and file 3 line 5.
	lost := map[[2]int64]bool{{1, 3}: true, {2, 0}: true, {2, 1}: true, {3, 5}: true}
	var export strings.Builder
	for _, r := range rec.Records() {
		var tree, index int64 = -1, -1
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			switch kv.Key {
			case psono.LogTree:
				tree = kv.Value.AsInt64()
			case psono.LogIndex:
				index = kv.Value.AsInt64()
			}
			return true
		})
		if tree < 0 || index < 0 {
			t.Fatalf("record without a position: %v", r)
		}
		if !lost[[2]int64{tree, index}] {
			export.WriteString(otlpLine("host/var/log/audit.log", tree, index))
		}
	}
	export.WriteString(specialLine("host/var/log/audit.log", "AUDIT_RECORDS_DROPPED",
		`{"key":"audit.dropped.positions","value":{"stringValue":"2:0-1"}}`))
	src := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(src, []byte(export.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	code := runGaps(context.Background(), []string{"-logs", filepath.Join(dir, "audit.*"), src}, &out, &errOut)
	if code != exitFailed {
		t.Errorf("exit %d, want %d; stderr %s", code, exitFailed, errOut.String())
	}
	for _, want := range []string{
		"host file " + path + ".2.gz (file 1): 5 line(s), 1 never arrived: lines 3\n",
		"    1:3 2024-01-01T00:00:00 logger=None",
		"req_url=/x/3/",
		"host file " + path + ".1 (file 2): 4 line(s), 2 never arrived: lines 0-1\n",
		"    2:0 (dropped by the spool, announced) ",
		"req_url=/x/101/",
		"host file " + path + " (file 3): 6 line(s), 1 never arrived: lines 5\n",
		"req_url=/x/205/",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "audit.chain") {
		t.Errorf("the chain file was taken for a log:\n%s", out.String())
	}

	// Nothing lost: exit 0; -json has the host files.
	var full strings.Builder
	for _, r := range rec.Records() {
		var tree, index int64
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == psono.LogTree {
				tree = kv.Value.AsInt64()
			} else if kv.Key == psono.LogIndex {
				index = kv.Value.AsInt64()
			}
			return true
		})
		full.WriteString(otlpLine("o", tree, index))
	}
	if err := os.WriteFile(src, []byte(full.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code = runGaps(context.Background(), []string{"-json", "-logs", path + "*", src}, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), `"host_files":[`) || strings.Contains(out.String(), `"missing"`) {
		t.Errorf("exit %d, output %s", code, out.String())
	}

	// A file nothing places is a usage error that says how to place it.
	lone := filepath.Join(t.TempDir(), "copy.log")
	if err := os.WriteFile(lone, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "none.jsonl")
	if err := os.WriteFile(empty, []byte(otlpLine("o", 0, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := runGaps(context.Background(), []string{"-logs", lone, empty}, &out, &errOut); code != exitUsage ||
		!strings.Contains(errOut.String(), "=NUMBER") {
		t.Errorf("exit %d, stderr %s", code, errOut.String())
	}
	// FILE=NUMBER places it.
	out.Reset()
	if code := runGaps(context.Background(), []string{"-logs", lone + "=7", "-origin", "o", src}, &out, &errOut); code != exitFailed ||
		!strings.Contains(out.String(), "(file 7): 1 line(s), 1 never arrived: lines 0") {
		t.Errorf("exit %d, output %s", code, out.String())
	}
}

func gzipFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path+".gz", b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path+".gz", fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}
