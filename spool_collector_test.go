package otelaudit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
	"github.com/otelaudit/otelaudit/spool"
)

// spoolHelperEnv carries the settings of TestSpoolHelperProcess:
// FOLDER|KEY|DURABILITY|FIRST|COUNT.
const spoolHelperEnv = "OTELAUDIT_SPOOL_HELPER"

// spooledMark is what the helper prints once its records are spooled.
const spooledMark = "SPOOLED"

// TestSpoolHelperProcess is the service of TestSpoolOutageKill, run as a
// child process: an Auditor with the file and spool stages forwarding to
// OTEL_EXPORTER_OTLP_ENDPOINT records COUNT events numbered from FIRST,
// prints spooledMark, and waits to be killed.
func TestSpoolHelperProcess(t *testing.T) {
	v := os.Getenv(spoolHelperEnv)
	if v == "" {
		t.Skip("run by TestSpoolOutageKill")
	}
	f := strings.Split(v, "|")
	mode, err := durability.Parse(f[2])
	if err != nil {
		t.Fatal(err)
	}
	first, _ := strconv.Atoi(f[3])
	count, _ := strconv.Atoi(f[4])
	s := config.Default()
	s.Enabled, s.Folder, s.SealKey, s.Durability = true, f[0], f[1], mode
	stages := []stage{fileStage, spoolStageWith(spool.WithRetry(20*time.Millisecond, 200*time.Millisecond))}
	a, err := New(s, func(o *options) { o.stages = stages }, WithHostName("spool-test"),
		WithErrorLog(func(err error) { fmt.Fprintln(os.Stderr, err) }))
	if err != nil {
		t.Fatal(err)
	}
	for i := first; i < first+count; i++ {
		if err := a.Record(context.Background(), instrument.Event{Event: "SPOOL_TEST_SUCCESS", Success: true,
			Kwargs: []instrument.Kwarg{{Name: "n", Value: i}}}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("%s %d\n", spooledMark, count)
	select {} // until SIGKILL
}

// startSpoolHelper runs TestSpoolHelperProcess in a child process and waits
// until it has spooled its records.
func startSpoolHelper(t *testing.T, c *collectortest.Collector, folder, key string, mode durability.Mode, first, count int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolHelperProcess$", "-test.timeout=10m")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+c.HTTPEndpoint,
		fmt.Sprintf("%s=%s|%s|%s|%d|%d", spoolHelperEnv, folder, key, mode, first, count))
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(stderr.Name())
			t.Logf("helper %d..%d stderr:\n%s", first, first+count-1, b)
		}
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), spooledMark) {
			go func() { // keep the pipe drained
				for sc.Scan() {
				}
			}()
			return cmd
		}
	}
	_ = cmd.Wait()
	b, _ := os.ReadFile(stderr.Name())
	t.Fatalf("the helper ended before spooling its records:\n%s", b)
	return nil
}

// kill ends the helper with SIGKILL: no Shutdown, no flush.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// TestSpoolOutageKill is the in-process path of issue 19 with a real
// collector: the collector goes down; the service records events, is
// killed with SIGKILL mid-outage, restarts on the same folder and records
// more; the collector comes back on the same ports. Every line of
// audit.log arrives, each record at least once, with its position, origin
// and uid, for each durability. OTELAUDIT_SPOOL_OUTAGE=2m10s makes the
// outage last that long (the manual scenario).
func TestSpoolOutageKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example collector")
	}
	dir, err := collectortest.ExampleDir()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "otlp-to-backend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []durability.Mode{durability.Write, durability.Sync} {
		t.Run(mode.String(), func(t *testing.T) {
			c := collectortest.Start(t, string(conf), collectortest.WithExporters("logs", "file"))
			c.Stop() // the outage begins
			folder := t.TempDir()
			key, _, err := seal.WriteKeyFiles(t.TempDir(), "spool-test")
			if err != nil {
				t.Fatal(err)
			}
			const n = 60
			kill(t, startSpoolHelper(t, c, folder, key, mode, 0, n/2))
			second := startSpoolHelper(t, c, folder, key, mode, n/2, n/2)
			if d, err := time.ParseDuration(os.Getenv("OTELAUDIT_SPOOL_OUTAGE")); err == nil {
				// A manual run of the scenario (an outage longer than
				// the OTLP exporter's and the old queue's retry windows):
				// the outage lasts this long at least, not synchronisation.
				time.Sleep(d)
			}
			c.Restart() // the outage ends
			recs := collectortest.WaitForLogsFunc(t, c.FilePath, 2*time.Minute, func(recs []collectortest.LogRecord) bool {
				return len(arrived(recs)) == n
			}, fmt.Sprintf("the %d events", n))
			kill(t, second)

			lines := strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(folder, "audit.log")), "\n"), "\n")
			if len(lines) != n {
				t.Fatalf("audit.log has %d lines, want %d", len(lines), n)
			}
			positions := map[string]int{}
			uids := map[string]int{}
			for _, r := range recs {
				if r.EventName != "SPOOL_TEST_SUCCESS" {
					continue
				}
				tree, okT := r.Attributes[string(psono.LogTree)].(int64)
				index, okI := r.Attributes[string(psono.LogIndex)].(int64)
				if !okT || !okI {
					t.Errorf("record %v arrived without its position", r.Attributes)
				}
				positions[fmt.Sprintf("%d:%d", tree, index)]++
				uid, _ := r.Attributes[string(spool.RecordUID)].(string)
				uids[uid]++
				if o, _ := r.Attributes[string(spool.Origin)].(string); o != seal.DefaultLogName(filepath.Join(folder, "audit.log")) {
					t.Errorf("record arrived with origin %q", o)
				}
			}
			if len(positions) != len(lines) || len(uids) != len(lines) {
				t.Errorf("%d distinct positions and %d uids arrived for %d lines: %v", len(positions), len(uids), len(lines), positions)
			}
			for u, k := range uids {
				if k > 1 {
					t.Logf("uid %s arrived %d times (a duplicate around the crash)", u, k)
				}
			}
			// otelaudit gaps, as an operator runs it over the backend's copy
			// and the host's files: no hole.
			gaps := exec.CommandContext(t.Context(), otelauditBin(t), "gaps", "-logs", filepath.Join(folder, "audit.log"), c.FilePath)
			if out, err := gaps.CombinedOutput(); err != nil {
				t.Errorf("otelaudit gaps: %v (want exit 0, no hole)\n%s", err, out)
			}
		})
	}
}

// arrived returns the event numbers (kwarg n) among recs.
func arrived(recs []collectortest.LogRecord) map[string]bool {
	m := map[string]bool{}
	for _, r := range recs {
		if r.EventName == "SPOOL_TEST_SUCCESS" {
			if v, ok := r.Attributes[psono.KwargAttrPrefix+"n"]; ok {
				m[fmt.Sprint(v)] = true
			}
		}
	}
	return m
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// otelauditBin builds the otelaudit command into t's temporary folder.
func otelauditBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "otelaudit")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/otelaudit").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/otelaudit: %v\n%s", err, out)
	}
	return bin
}
