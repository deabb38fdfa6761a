//go:build unix

package collector_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
	"github.com/otelaudit/otelaudit/spool"
)

// scaleInstance is one service of TestGatewayThreeInstances: an Auditor
// with its own folder (so its own origin), forwarding through its durable
// spool to the gateway, behind a switch that plays its network link going
// down.
type scaleInstance struct {
	name   string
	folder string
	origin string
	down   atomic.Bool
	a      *otelaudit.Auditor
}

// TestGatewayThreeInstances is the gateway row of issue 19: three service
// instances (three Auditors, each with its own folder and origin, file and
// spool stages, unsealed) send through gateway-filter.yaml to one backend
// (otlp-to-backend.yaml's file export). Instance c's link to the gateway is
// down while it records, and its spool has a tiny budget
// (LOGGING_AUDIT_FORWARD_SPOOL_MAX), so it drops its oldest records and
// says so (AUDIT_RECORDS_DROPPED, in its audit.log and to the backend).
// Then: a and b arrive whole, every position of their audit.log once at
// least; otelaudit gaps reads the backend's file, reports no hole for a
// and b and the announced hole of c (exit 1); and with c's audit.log
// (-logs) it names exactly c's lines that never arrived, the ones the drop
// record announced.
func TestGatewayThreeInstances(t *testing.T) {
	skipShort(t)
	const n = 40
	backend := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"), collectortest.WithExporters("logs", "file"))
	gateway := collectortest.Start(t, readConfig(t, "gateway-filter.yaml"),
		collectortest.WithEnv("BACKEND_OTLP_ENDPOINT", "http://"+backend.HTTPEndpoint))
	gwURL, err := url.Parse("http://" + gateway.HTTPEndpoint)
	if err != nil {
		t.Fatal(err)
	}

	var insts []*scaleInstance
	for _, name := range []string{"a", "b", "c"} {
		in := &scaleInstance{name: name, folder: filepath.Join(t.TempDir(), name)}
		proxy := httputil.NewSingleHostReverseProxy(gwURL)
		link := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if in.down.Load() {
				http.Error(w, "link down", http.StatusServiceUnavailable)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(link.Close)
		// No retries in the exporter: the spool retries, for as long as
		// it takes.
		exp, err := otlploghttp.New(t.Context(), otlploghttp.WithEndpointURL(link.URL+"/v1/logs"),
			otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
		if err != nil {
			t.Fatal(err)
		}
		s := config.Default()
		s.Enabled, s.Folder = true, in.folder
		if name == "c" {
			s.ForwardSpoolMax = 8 << 10 // about a dozen records
			in.down.Store(true)
		}
		in.origin = seal.DefaultLogName(s.LogPath())
		in.a, err = otelaudit.New(s, otelaudit.WithForwardExporter(exp), otelaudit.WithHostName("instance-"+name),
			otelaudit.WithErrorLog(func(err error) { t.Logf("instance %s: %v", name, err) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.a.Shutdown(context.Background()) })
		insts = append(insts, in)
	}

	for i := range n {
		for _, in := range insts {
			if err := in.a.Record(t.Context(), instrument.Event{Event: "READ_SCALE_SUCCESS", Success: true,
				Kwargs: []instrument.Kwarg{{Name: "n", Value: i}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := insts[2]
	// The spool reports its drops from a goroutine of its own (at once for
	// the first, see spool.WithOnDrop): its line follows the records
	// shortly, not necessarily before the last Record returns.
	for deadline := time.Now().Add(10 * time.Second); !bytes.Contains(readFile(t, filepath.Join(c.folder, "audit.log")), []byte(spool.DroppedEvent)); {
		if time.Now().After(deadline) {
			t.Fatalf("instance c's audit.log does not say that its spool dropped records")
		}
		time.Sleep(10 * time.Millisecond) // polling a file another goroutine writes, with a deadline
	}
	c.down.Store(false) // the link is back

	// Delivery is over when every line of each audit.log arrived or was
	// announced as dropped; then the services stop (audit.log no longer
	// grows: a drop report due later is not written) and the check is made
	// again against the final files.
	delivered := func(rs []collectortest.LogRecord) bool {
		for _, in := range insts {
			if missing, _ := notArrived(t, rs, in); len(missing) > 0 {
				return false
			}
		}
		return true
	}
	collectortest.WaitForLogsFunc(t, backend.FilePath, 2*time.Minute, delivered, "every line of the three audit logs, or its announced drop")
	for _, in := range insts {
		if err := in.a.Shutdown(t.Context()); err != nil {
			t.Fatalf("instance %s: %v", in.name, err)
		}
	}
	rs := collectortest.WaitForLogsFunc(t, backend.FilePath, time.Minute, delivered, "every line of the three final audit logs")

	var announcedC int
	for _, in := range insts {
		_, announced := notArrived(t, rs, in)
		if in.name != "c" && announced != 0 {
			t.Errorf("instance %s: %d position(s) announced as dropped; its link was up", in.name, announced)
		}
		if in.name == "c" {
			announcedC = announced
		}
	}
	if announcedC == 0 {
		t.Fatal("instance c: no position announced as dropped")
	}

	// otelaudit gaps on the backend's file.
	bin := buildOtelaudit(t)
	out, code := runCmd(t, bin, "gaps", backend.FilePath)
	if code != 1 {
		t.Errorf("gaps: exit %d, want 1 (c's hole):\n%s", code, out)
	}
	for _, in := range insts {
		line := originLine(out, in.origin)
		if line == "" {
			t.Errorf("gaps does not name origin %s:\n%s", in.origin, out)
			continue
		}
		hasHole := !strings.Contains(line, " 0 hole(s)")
		if hasHole != (in.name == "c") {
			t.Errorf("gaps, instance %s: %q", in.name, line)
		}
	}
	if !strings.Contains(out, "dropped by the spool (announced): 1:") {
		t.Errorf("gaps does not show c's announced drop:\n%s", out)
	}
	// With c's audit.log: the lines that never arrived, all announced.
	out, code = runCmd(t, bin, "gaps", "-logs", filepath.Join(c.folder, "audit.log*"), "-origin", c.origin, backend.FilePath)
	if code != 1 {
		t.Errorf("gaps -logs: exit %d, want 1:\n%s", code, out)
	}
	want := "never arrived: lines "
	if !strings.Contains(out, want) || strings.Count(out, "(dropped by the spool, announced)") != min(announcedC, 20) {
		t.Errorf("gaps -logs does not name c's %d lost lines, all announced:\n%s", announcedC, out)
	}
	// The lines of a and b all arrived.
	for _, in := range insts[:2] {
		out, code = runCmd(t, bin, "gaps", "-logs", filepath.Join(in.folder, "audit.log"), "-origin", in.origin, backend.FilePath)
		if !strings.Contains(out, "(file 1): "+fmt.Sprint(n)+" line(s), 0 never arrived") {
			t.Errorf("gaps -logs, instance %s (exit %d):\n%s", in.name, code, out)
		}
	}
	t.Logf("gaps:\n%s", out)
}

// notArrived returns the line indexes of in's audit.log (file 1) whose
// position did not arrive in rs and is not announced as dropped, and the
// number announced.
func notArrived(t *testing.T, rs []collectortest.LogRecord, in *scaleInstance) (missing []int64, announced int) {
	t.Helper()
	seen := map[int64]bool{}
	dropped := map[int64]bool{}
	for _, r := range rs {
		if r.Attributes[string(spool.Origin)] != in.origin {
			continue
		}
		if r.EventName == spool.DroppedEvent {
			if s, ok := r.Attributes[string(spool.DroppedPositions)].(string); ok {
				spans, err := spool.ParseSpans(s)
				if err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				for _, sp := range spans {
					for i := sp.First; i <= sp.Last; i++ {
						if sp.Tree == 1 {
							dropped[i] = true
						}
					}
				}
			}
		}
		tree, okT := r.Attributes[string(psono.LogTree)].(int64)
		index, okI := r.Attributes[string(psono.LogIndex)].(int64)
		if okT && okI && tree == 1 {
			seen[index] = true
		}
	}
	lines := int64(bytes.Count(readFile(t, filepath.Join(in.folder, "audit.log")), []byte("\n")))
	for i := range lines {
		if seen[i] {
			continue
		}
		if dropped[i] {
			announced++
			continue
		}
		missing = append(missing, i)
	}
	return missing, announced
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildOtelaudit builds the otelaudit command into a temporary folder.
func buildOtelaudit(t *testing.T) string {
	t.Helper()
	root, err := collectortest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "otelaudit")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/otelaudit")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/otelaudit: %v\n%s", err, out)
	}
	return bin
}

// runCmd runs bin with args and returns its output and exit status.
func runCmd(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// originLine returns gaps' summary line of origin.
func originLine(out, origin string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "origin "+origin+":") {
			return l
		}
	}
	return ""
}
