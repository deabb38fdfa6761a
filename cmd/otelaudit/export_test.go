package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/seed"
)

// export runs runExport and returns its exit status and output.
func export(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runExport(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// objects decodes one JSON object per line of out.
func objects(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line %q is not a JSON object: %v", l, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// rotatedLogs writes the seed session over audit.log.2.gz, audit.log.1 and
// audit.log (oldest first) with a checkpoints file and a line that is not a
// record, and returns the folder and the lines in order.
func rotatedLogs(t *testing.T) (dir string, lines []string) {
	dir = t.TempDir()
	lines = seed.Lines
	writeGzip(t, filepath.Join(dir, "audit.log.2.gz"), strings.Join(lines[:3], "\n")+"\n")
	if err := os.WriteFile(filepath.Join(dir, "audit.log.1"), []byte(strings.Join(lines[3:6], "\n")+"\nnot a record\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte(strings.Join(lines[6:], "\n")), 0o600); err != nil { // no final newline
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log.checkpoints"), []byte("-- otelaudit checkpoint\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, lines
}

// TestExport exports rotated, gzipped files given newest first in every
// format and checks that each record comes out once, oldest first, with
// the line itself where the schema keeps it.
func TestExport(t *testing.T) {
	dir, lines := rotatedLogs(t)
	files := []string{
		filepath.Join(dir, "audit.log"), filepath.Join(dir, "audit.log.1"),
		filepath.Join(dir, "audit.log.2.gz"), filepath.Join(dir, "audit.log.checkpoints"),
	}
	tests := []struct {
		format string
		raw    func(m map[string]any) any // where the line (or its time) is
		want   func(i int) any
	}{
		{"ocsf", func(m map[string]any) any { return m["raw_data"] }, func(i int) any { return lines[i] }},
		{"ecs", func(m map[string]any) any { return m["event"].(map[string]any)["original"] }, func(i int) any { return lines[i] }},
		{"json", func(m map[string]any) any { return m["timestamp"] }, func(i int) any { return lines[i][:strings.IndexByte(lines[i], ' ')] }},
	}
	for _, tt := range tests {
		code, out, errOut := export(t, append([]string{"-format", tt.format}, files...)...)
		if code != exitOK {
			t.Fatalf("-format %s: exit %d, stderr %s", tt.format, code, errOut)
		}
		if !strings.Contains(errOut, "skipped 1 line") || !strings.Contains(errOut, "audit.log.1:4") {
			t.Errorf("-format %s: stderr %q, want the skipped line audit.log.1:4 reported", tt.format, errOut)
		}
		objs := objects(t, out)
		if len(objs) != len(lines) {
			t.Fatalf("-format %s: %d objects, want %d:\n%s", tt.format, len(objs), len(lines), out)
		}
		for i, m := range objs {
			if got, want := tt.raw(m), tt.want(i); got != want {
				t.Errorf("-format %s: object %d has %v, want %v", tt.format, i+1, got, want)
			}
		}
	}
}

// TestExportOCSFFields checks a few fields of the OCSF and ECS output
// (siem's tests validate every field against the schemas).
func TestExportOCSFFields(t *testing.T) {
	exportStdin = strings.NewReader(strings.Join(seed.Lines, "\n") + "\n")
	defer func() { exportStdin = os.Stdin }()
	code, out, errOut := export(t, "-format", "ocsf")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	objs := objects(t, out)
	var classes []float64
	for _, m := range objs {
		classes = append(classes, m["class_uid"].(float64))
	}
	want := []float64{6003, 3002, 3002, 6003, 6003, 6003, 6003, 6003, 6003}
	if !slices.Equal(classes, want) {
		t.Errorf("class_uid = %v, want %v", classes, want)
	}
	if got := objs[0]["time"].(float64); got != 1590306937720 {
		t.Errorf("time = %v, want 1590306937720 (2020-05-24T07:55:37.720973 UTC)", got)
	}
	if got := objs[5]["unmapped"].(map[string]any)["kwarg_datastore_id"]; got != "bed4572d-6a28-4c00-94c2-dd45322de1d0" {
		t.Errorf("unmapped.kwarg_datastore_id = %v", got)
	}

	local := time.Local
	time.Local = time.FixedZone("IST", 5*3600+1800)
	defer func() { time.Local = local }()
	exportStdin = strings.NewReader(seed.Lines[0])
	code, out, _ = export(t, "-format", "ecs", "-time", "time_server")
	if code != exitOK {
		t.Fatal(code)
	}
	if ts := objects(t, out)[0]["@timestamp"]; ts != "2020-05-24T07:55:37.720973+05:30" {
		t.Errorf("@timestamp with -time time_server = %v, want the local zone", ts)
	}
}

// TestExportUsage checks the refusals.
func TestExportUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "no -format given"},
		{[]string{"-format", "cef"}, exitUsage, `-format "cef": want ocsf, ecs or json`},
		{[]string{"-format", "ocsf", "-time", "utc"}, exitUsage, "want time_utc or time_server"},
		{[]string{"-format", "ocsf", filepath.Join(t.TempDir(), "missing")}, exitUsage, "no such file"},
		{[]string{"-format", "ocsf", t.TempDir()}, exitUsage, "not a regular file"},
		{[]string{"-h"}, exitOK, "usage: otelaudit export"},
	}
	for _, tt := range tests {
		code, _, errOut := export(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("export %q: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

// TestExportInterrupted checks that a cancelled export stops with exit 2.
func TestExportInterrupted(t *testing.T) {
	dir, _ := rotatedLogs(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	if code := runExport(ctx, []string{"-format", "ocsf", filepath.Join(dir, "audit.log")}, &o, &e); code != exitUsage || !strings.Contains(e.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want %d and interrupted", code, e.String(), exitUsage)
	}
}

// TestRotationOrder checks the order files are exported in.
func TestRotationOrder(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"audit.log", "audit.log.1", "audit.log.2.gz", "audit.log.10.gz"}, []string{"audit.log.10.gz", "audit.log.2.gz", "audit.log.1", "audit.log"}},
		{[]string{"a/audit.log", "b/audit.log.1", "a/audit.log.1", "b/audit.log"}, []string{"a/audit.log.1", "a/audit.log", "b/audit.log.1", "b/audit.log"}},
		{[]string{"audit.log", "audit.log-20261130.gz", "audit.log-20261129.gz"}, []string{"audit.log-20261129.gz", "audit.log-20261130.gz", "audit.log"}},
		{[]string{"z.log", "my-audit.log"}, []string{"z.log", "my-audit.log"}},
	}
	for _, tt := range tests {
		if got := rotationOrder(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("rotationOrder(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
