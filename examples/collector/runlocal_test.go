package collector_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/testproc"
)

// TestRunLocal runs examples/collector/run-local as README shows it, on free
// ports: a login through the demo is found in VictoriaLogs by user, and
// stopping the script (SIGTERM) stops VictoriaLogs, the collector and the
// demo, which flushes audit.log first.
func TestRunLocal(t *testing.T) {
	skipShort(t)
	collectortest.Binary(t) // build before the script's own 60 s waits start
	ports, err := testproc.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	vl, demo := addr(0), addr(4)

	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	settings := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settings, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+logDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("run-local")
	if err != nil {
		t.Fatal(err)
	}
	p := &testproc.Process{
		Path: script,
		Args: []string{"-listen", demo, "-settings", settings},
		Env: append(os.Environ(), "RUN_DIR="+filepath.Join(dir, "run"),
			"VL_ADDR="+vl, "OTLP_GRPC_ADDR="+addr(1), "OTLP_HTTP_ADDR="+addr(2), "HEALTH_ADDR="+addr(3)),
		LogPath:      filepath.Join(dir, "run-local.log"),
		Ready:        testproc.HTTPReady("http://" + demo + "/info/"),
		ReadyTimeout: 5 * time.Minute, // builds the demo first
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("run-local's output:\n%s", p.LogTail(40))
		}
	})

	resp, err := http.Post("http://"+demo+"/authentication/login/", "application/json",
		strings.NewReader(`{"username":"demo2@example.com","password":"demo2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", resp.Status)
	}

	query := "http://" + vl + "/select/logsql/query?query=" + url.QueryEscape(`"user.name":="demo2@example.com"`)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `"event_name":"LOGIN_STARTED_SUCCESS"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("VictoriaLogs has no login of demo2 after a minute: %s", body)
		}
		time.Sleep(200 * time.Millisecond) // polling an outside process with a deadline
	}

	// SIGTERM to the script; it ends with 143, the shell's code for that.
	if err := p.Stop(30 * time.Second); err != nil && !strings.Contains(err.Error(), "exit status 143") {
		t.Errorf("stopping run-local: %v", err)
	}
	for _, a := range []string{vl, addr(2), demo} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after run-local stopped", a)
		}
	}
	data, err := os.ReadFile(filepath.Join(logDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 2 || !strings.Contains(string(data), "event=LOGIN_STARTED_SUCCESS") {
		t.Errorf("audit.log after stop, want the readiness check and the login:\n%s", data)
	}
}
