package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/collectortest"
)

// TestMain lets the test binary serve as a peer server: -peer runs
// auditload's own binary (os.Executable, here the test binary) with
// serveArg first.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveArg {
		os.Exit(serveMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestRun drives both demo modes briefly and checks that the report is
// complete and that audit.log holds a line for every answered request.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo server")
	}
	t.Setenv("TMPDIR", t.TempDir()) // auditload's working folder
	t.Chdir("../../..")             // auditload builds ./examples/server from the module root
	var out bytes.Buffer
	err := run([]string{"-clients", "2", "-rounds", "2", "-duration", "200ms", "-warmup", "100ms"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, want := range []string{"server CPU µs/req", "medians over the rounds", "every answered request has its line"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, &out)
		}
	}
}

// answeredRE matches checkRecords's line for a mode.
var answeredRE = regexp.MustCompile(`(?m)^(\S+): (\d+) requests answered, (\d+) lines in (.+): (.+)$`)

// checkedModes returns, by mode, the requests answered of checkRecords's
// lines in out, failing the test for a line that is not a match.
func checkedModes(t *testing.T, out string) map[string]int {
	t.Helper()
	answered := map[string]int{}
	for _, m := range answeredRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		answered[m[1]] = n
		if m[2] != m[3] || m[5] != "every answered request has its line" {
			t.Errorf("%s: %s requests, %s lines in %s: %s", m[1], m[2], m[3], m[4], m[5])
		}
		if n == 0 {
			t.Errorf("%s answered no request", m[1])
		}
	}
	return answered
}

// medianModes returns the modes of the peer summary's medians table.
func medianModes(out string) []string {
	_, table, _ := strings.Cut(out, "medians over the rounds")
	table, _, _ = strings.Cut(table, "\n\n")
	var modes []string
	for _, line := range strings.Split(table, "\n")[2:] {
		if f := strings.Fields(line); len(f) > 0 {
			modes = append(modes, f[0])
		}
	}
	return modes
}

// TestPeers runs every peer mode briefly, without OTLP: the report holds
// each mode and the file path's ratio, each mode's profile is written, and
// every server that writes records wrote one per answered request.
func TestPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the peer servers")
	}
	t.Setenv("TMPDIR", t.TempDir())
	profiles := t.TempDir()
	var out bytes.Buffer
	err := run([]string{"-peer", "all", "-clients", "2", "-rounds", "1", "-duration", "200ms", "-warmup", "100ms",
		"-profile", profiles}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	report := out.String()
	all := []string{modeBare, modeOTelHTTP, modeSlog, modeOTelStd, modeOTelAudit}
	if got := medianModes(report); !slices.Equal(got, all) {
		t.Errorf("medians table has modes %q, want %q:\n%s", got, all, report)
	}
	for _, want := range []string{"added CPU µs/req", "allocs/req", "GCs/1k req",
		"otelaudit added / (otelhttp added + slog added)  ≤ 1.00"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "+otlp") {
		t.Errorf("OTLP modes ran without -otlp-endpoint:\n%s", report)
	}
	answered := checkedModes(t, report)
	for _, m := range []string{modeSlog, modeOTelStd, modeOTelAudit} {
		if _, ok := answered[m]; !ok {
			t.Errorf("no record check for %s:\n%s", m, report)
		}
	}
	for _, m := range all {
		if fi, err := os.Stat(filepath.Join(profiles, m+".pprof")); err != nil || fi.Size() == 0 {
			t.Errorf("profile of %s: %v", m, err)
		}
	}
}

// collectorConfig receives OTLP/HTTP and writes what it receives to the
// file exporter.
const collectorConfig = `
extensions:
  health_check:
    endpoint: ${env:HEALTH_CHECK_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
exporters:
  file:
    path: ${env:FILE_EXPORT_PATH}
    flush_interval: 100ms
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`

// TestPeersOTLP runs the OTLP peers against the real collector: the report
// holds both OTLP ratios, and the collector received one record for every
// request the three forwarding modes answered.
func TestPeersOTLP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the peer servers and the collector")
	}
	c := collectortest.Start(t, collectorConfig)
	t.Setenv("TMPDIR", t.TempDir())
	var out bytes.Buffer
	err := run([]string{"-peer", "otelstd,otelaudit", "-otlp-endpoint", "http://" + c.HTTPEndpoint,
		"-clients", "2", "-rounds", "1", "-duration", "200ms", "-warmup", "100ms"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	report := out.String()
	want := []string{modeBare, modeOTelStd, modeOTelStdOTLP, modeOTelAudit, modeOTelAuditOTLP, modeOTelAuditOTLPM}
	if got := medianModes(report); !slices.Equal(got, want) {
		t.Errorf("medians table has modes %q, want %q:\n%s", got, want, report)
	}
	for _, want := range []string{
		"needs -peer otelhttp,slog", // the file path's ratio, without its peers
		"otelaudit+otlp added / otelstd+otlp added",
		"otelaudit+otlp-memory added / otelstd+otlp added",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	answered := checkedModes(t, report)
	n := 0
	for _, m := range []string{modeOTelStdOTLP, modeOTelAuditOTLP, modeOTelAuditOTLPM} {
		if answered[m] == 0 {
			t.Errorf("no record check for %s:\n%s", m, report)
		}
		n += answered[m]
	}
	if recs := c.WaitForLogs(n, time.Minute); len(recs) != n {
		t.Errorf("collector received %d records for %d requests answered by the forwarding modes", len(recs), n)
	}
}

// TestBadFlags checks that wrong flags are errors, before any server runs.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-modes", "nonsense"},
		{"-peer", "nonsense"},
		{"-peer", "slog,"},
		{"-peer", "slog", "-modes", "on"},
		{"-profile", t.TempDir()}, // without -peer
		{"-peer", "all", "extra"},
	} {
		if err := run(args, new(bytes.Buffer)); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}
