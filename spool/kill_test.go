package spool_test

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

	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/spool"
)

// killHelperEnv carries the settings of TestKillHelperProcess:
// PATH|DURABILITY|FIRST|COUNT.
const killHelperEnv = "OTELAUDIT_SPOOL_KILL_HELPER"

// TestKillHelperProcess is the process TestKill kills: it opens the spool
// at PATH with an exporter that always fails, emits COUNT records numbered
// from FIRST, prints "SPOOLED" once every OnEmit has returned, and waits to
// be killed.
func TestKillHelperProcess(t *testing.T) {
	v := os.Getenv(killHelperEnv)
	if v == "" {
		t.Skip("run by TestKill")
	}
	f := strings.Split(v, "|")
	mode, err := durability.Parse(f[1])
	if err != nil {
		t.Fatal(err)
	}
	first, _ := strconv.Atoi(f[2])
	count, _ := strconv.Atoi(f[3])
	s := open(t, f[0], newFlaky(), spool.WithDurability(mode))
	lp := emitter(s, resource.Empty())
	for i := first; i < first+count; i++ {
		emit(t, lp, i, true)
	}
	fmt.Println("SPOOLED")
	select {} // until SIGKILL
}

// spoolAndKill runs TestKillHelperProcess on path and kills it with
// SIGKILL once its records are spooled: no Shutdown, no fold.
func spoolAndKill(t *testing.T, path string, mode durability.Mode, first, count int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelperProcess$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d|%d", killHelperEnv, path, mode, first, count))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	spooled := false
	for !spooled && sc.Scan() {
		spooled = sc.Text() == "SPOOLED"
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !spooled {
		t.Fatalf("the helper ended before spooling its records:\n%s", stderr.String())
	}
}

// TestKill: records whose OnEmit returned survive a SIGKILL of the process
// (write-ahead log and all), twice over, and are sent after the restart,
// each once, in order, with sequence numbers that go on across the kills.
// A write cut short at the log's end (a crash of the machine) is ignored
// and reported; the records before it are kept.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for _, mode := range []durability.Mode{durability.Write, durability.Sync} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spool")
			const n = 300
			spoolAndKill(t, path, mode, 0, n/2)
			spoolAndKill(t, path, mode, n/2, n/2)
			if fi, err := os.Stat(path + ".wal"); err == nil {
				t.Logf("the write-ahead log holds %d bytes after the kills", fi.Size())
			}
			wal, err := os.OpenFile(path+".wal", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := wal.Write([]byte{0, 0, 1, 0, 9, 9}); err != nil { // a frame cut short
				t.Fatal(err)
			}
			_ = wal.Close()

			var logged []string
			up := &sdklogtest.Recorder{}
			s := open(t, path, up, spool.WithErrorLog(func(err error) { logged = append(logged, err.Error()) }))
			got := waitFor(t, up, n)
			if err := s.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(up.Records()) != n {
				t.Errorf("%d records sent, want %d", len(up.Records()), n)
			}
			for i, r := range got {
				a := attrs(r)
				if idx := a[string(psono.LogIndex)].AsInt64(); idx != int64(i) {
					t.Errorf("record %d has index %d", i, idx)
				}
				if seq := a[string(spool.SpoolSeq)].AsInt64(); seq != int64(i+1) {
					t.Errorf("record %d has seq %d", i, seq)
				}
				if uid := a[string(spool.RecordUID)].AsString(); uid != fmt.Sprintf("%s-%d", s.ID(), i+1) {
					t.Errorf("record %d uid %q", i, uid)
				}
			}
			if len(logged) != 1 || !strings.Contains(logged[0], "cut short") {
				t.Errorf("errors reported: %q; want the cut write", logged)
			}
		})
	}
}

// TestWALFromLaterVersion: a write-ahead log with a frame this version
// does not know is refused, naming the file, rather than half read.
func TestWALFromLaterVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	// length 1, CRC-32C of the payload {9}, kind 9
	if err := os.WriteFile(path+".wal", []byte{0, 0, 0, 1, 0x2a, 0xcf, 0x88, 0x9d, 9}, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := spool.Open(path, &sdklogtest.Recorder{}, spool.WithErrorLog(func(error) {}))
	if err == nil || !strings.Contains(err.Error(), path+".wal") || !strings.Contains(err.Error(), "unknown kind") {
		t.Fatalf("Open of a log with an unknown frame: %v; want it refused", err)
	}
}
