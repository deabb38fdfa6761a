//go:build unix

package collector_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/testproc"
)

// TestFilelogSurvivesKillMidOutage is the collector path of issue 19: the
// backend is down; filelog-psono.yaml reads audit.log, is killed with
// SIGKILL, and starts again (same storage) while the backend comes back.
// Every line arrives, at least once: the persistent, fsynced sending queue
// kept what the receiver had read and moved its offset past.
func TestFilelogSurvivesKillMidOutage(t *testing.T) {
	skipShort(t)
	const n = 250
	backend := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"), collectortest.WithExporters("logs", "file"))
	backend.Stop() // the outage begins

	dir := t.TempDir()
	auditLog := filepath.Join(dir, "audit.log")
	var text strings.Builder
	for i := range n {
		fmt.Fprintf(&text, "2024-01-01T00:00:%02d.%06d logger=t, user_ip=192.0.2.1, req_method=GET, req_url=/x/%d/, success=True, hostname=h, status=HTTP_200_OK, event=READ_X_SUCCESS, kwarg_n=%d\n",
			i%60, i, i, i)
	}
	if err := os.WriteFile(auditLog, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	// The filelog collector, run here rather than by collectortest.Start so
	// that it can be killed: it sends to the backend and, to tell when it
	// has read (and queued) every line, to its own file exporter after the
	// backend's exporter (a pipeline's exporters are called in order).
	ports, err := testproc.FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "filelog.yaml")
	if err := os.WriteFile(conf, []byte(readConfig(t, "filelog-psono.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	health := "127.0.0.1:" + strconv.Itoa(ports[2])
	read := filepath.Join(dir, "read.jsonl")
	p := &testproc.Process{
		Path: collectortest.Binary(t),
		Args: []string{"--config", conf, "--config", "yaml:service::pipelines::logs::exporters: [otlp_http/backend, file]",
			"--set=service.telemetry.metrics.level=none"},
		Env: append(os.Environ(), "PSONO_AUDIT_LOG="+auditLog, "STORAGE_DIR="+filepath.Join(dir, "storage"),
			collectortest.EnvHealthCheckEndpoint+"="+health, collectortest.EnvFileExportPath+"="+read,
			"BACKEND_OTLP_ENDPOINT=http://"+backend.HTTPEndpoint),
		Dir: dir, LogPath: filepath.Join(dir, "filelog.log"), Ready: testproc.HTTPReady("http://" + health + "/"),
	}
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("filelog collector log:\n%s", p.LogTail(60))
		}
	})
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	collectortest.WaitForLogs(t, read, n, time.Minute)
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Stop(time.Second) // reaps the killed process

	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	backend.Restart() // the outage ends
	collectortest.WaitForLogsFunc(t, backend.FilePath, 2*time.Minute, func(recs []collectortest.LogRecord) bool {
		seen := map[any]bool{}
		for _, r := range recs {
			seen[r.Attributes["audit.kwarg.n"]] = true
		}
		return len(seen) == n
	}, fmt.Sprintf("every one of the %d lines", n))
}
