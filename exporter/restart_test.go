package exporter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/seal"
)

// recordingSealer records the calls a File makes, with the bytes of every
// Append since the last Rotate.
type recordingSealer struct {
	mu      sync.Mutex
	got     []byte // the bytes appended since the last Rotate
	lines   int64
	rotates int
}

func (s *recordingSealer) Append(b []byte) (int64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, b...)
	first := s.lines
	s.lines += int64(bytes.Count(b, []byte("\n")))
	return int64(s.rotates + 1), first
}

func (s *recordingSealer) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotates++
	s.got, s.lines = nil, 0
	return nil
}

func (s *recordingSealer) Close() error { return nil }

func (s *recordingSealer) state() (got string, rotates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.got), s.rotates
}

// line returns the line File writes for r.
func line(r sdklog.Record) string { return string(exporter.AppendLine(nil, &r, time.UTC)) }

// tornFile writes a file holding two whole lines and the first half of a
// third (what kill -9 leaves when the kernel cut the last write) and returns
// its content.
func tornFile(t *testing.T, path string) string {
	t.Helper()
	third := line(numbered(1002))
	content := line(numbered(1000)) + line(numbered(1001)) + third[:len(third)/2]
	noErr(t, os.WriteFile(path, []byte(content), 0o600))
	return content
}

// TestTornLastLineAtOpen opens a File on an audit.log whose last line has no
// newline (a write cut short by kill -9): the next record must start a line
// of its own, after a newline File writes first, so that the fragment stays
// a line and the record is not glued to it; the sealer, which counted the
// fragment as a line when it read the file, is given the record's line and
// not that newline. The same holds for a torn file found at the path by
// Reopen after a rotation, and a file that ends with a newline, or is empty,
// gets no newline.
func TestTornLastLineAtOpen(t *testing.T) {
	ctx := context.Background()
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			before := tornFile(t, path)
			s := &recordingSealer{}
			f, err := exporter.NewFile(path, exporter.WithSealer(s), exporter.WithDurability(d))
			if err != nil {
				t.Fatal(err)
			}
			r1, r2 := numbered(1), numbered(2)
			want1 := line(r1) + line(r2)
			noErr(t, f.Export(ctx, []sdklog.Record{r1, r2}))
			noErr(t, f.ForceFlush(ctx))
			if data, _ := os.ReadFile(path); string(data) != before+"\n"+want1 {
				t.Fatalf("audit.log is\n%q\nwant the fragment as a line of its own, then the records:\n%q", data, before+"\n"+want1)
			}
			if got, rotates := s.state(); got != want1 || rotates != 0 {
				t.Fatalf("sealer got %q (%d rotations), want exactly the records' lines %q", got, rotates, want1)
			}

			// logrotate moves audit.log away; the file at the path is torn
			// too; Reopen.
			noErr(t, os.Rename(path, path+".1"))
			before = tornFile(t, path)
			noErr(t, f.Reopen())
			r3 := numbered(3)
			noErr(t, f.Export(ctx, []sdklog.Record{r3}))
			// Reopen of the same file: the newline is not written again.
			noErr(t, f.Reopen())
			r4 := numbered(4)
			noErr(t, f.Export(ctx, []sdklog.Record{r4}))
			noErr(t, f.ForceFlush(ctx))
			want2 := line(r3) + line(r4)
			if data, _ := os.ReadFile(path); string(data) != before+"\n"+want2 {
				t.Fatalf("after Reopen audit.log is\n%q\nwant\n%q", data, before+"\n"+want2)
			}
			if got, rotates := s.state(); got != want2 || rotates != 1 {
				t.Fatalf("after Reopen sealer got %q (%d rotations), want %q (1 rotation)", got, rotates, want2)
			}

			// A whole last line, and an empty file: nothing is added.
			for _, content := range []string{line(numbered(5)), ""} {
				noErr(t, os.Remove(path))
				noErr(t, os.WriteFile(path, []byte(content), 0o600))
				noErr(t, f.Reopen())
				r := numbered(6)
				noErr(t, f.Export(ctx, []sdklog.Record{r}))
				noErr(t, f.ForceFlush(ctx))
				if data, _ := os.ReadFile(path); string(data) != content+line(r) {
					t.Fatalf("audit.log is\n%q\nwant\n%q", data, content+line(r))
				}
			}
			noErr(t, f.Shutdown(ctx))
		})
	}
}

// TestTornLastLineSealed is issue 16's kill -9 with the real sealer: a run
// is killed in the middle of a write, so that audit.log ends in a fragment
// of a line that no Append saw, and the run after it writes more records.
// seal.Verify must find the log intact: the fragment is a line of its own,
// sealed when the sealer restarts, and the records after it are lines of
// their own. Sealing that starts on a file that is already torn is checked
// too.
func TestTornLastLineSealed(t *testing.T) {
	keyPath, verify := sealKey(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	ctx := context.Background()
	// run writes 3 records from first on; a killed run stops after them,
	// without Shutdown, leaving part of another line at the end of the
	// file, and signs no checkpoint after its start (none would be signed
	// after the kill either).
	run := func(first int, killed bool) {
		t.Helper()
		opts := []seal.Option{seal.WithEvery(2), seal.WithInterval(0)}
		if killed {
			opts = []seal.Option{seal.WithEvery(0), seal.WithInterval(0)}
		}
		s, err := seal.New(keyPath, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		f, err := exporter.NewFile(path, exporter.WithSealer(s))
		if err != nil {
			t.Fatal(err)
		}
		for i := first; i < first+3; i++ {
			r := numbered(i)
			noErr(t, f.OnEmit(ctx, &r))
		}
		if !killed {
			noErr(t, f.Shutdown(ctx))
			return
		}
		cut := line(numbered(first + 3))
		af, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		noErr(t, err)
		_, err = af.WriteString(cut[:len(cut)/3])
		noErr(t, err)
		noErr(t, af.Close())
	}

	tornFile(t, path) // torn before it was ever sealed
	run(0, false)
	run(10, true)
	run(20, false)

	data, err := os.ReadFile(path)
	noErr(t, err)
	if n := strings.Count(string(data), "\n"); n != 3+3+3+1+3 || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("audit.log has %d lines, want 13 (2 old ones, 2 fragments, 9 records):\n%s", n, data)
	}
	if rep := verify(path); !rep.OK() {
		t.Fatalf("verify: %v", rep.Problems)
	}
}

// TestDeletedAndRecreated: audit.log is deleted (or moved away) while File
// runs and another file is created at the path. The next record goes to the
// new file, and the sealer is told about the new file (one Rotate) before
// the record's line, whether File finds out by itself or through Reopen.
// (The new file may be given the deleted one's inode number; that the
// deleted file still counts as another one is tested in
// TestGoneFileIsAnother.)
func TestDeletedAndRecreated(t *testing.T) {
	ctx := context.Background()
	moveAway := func(path string) error { return os.Rename(path, path+".1") }
	for _, c := range []struct {
		name     string
		remove   func(path string) error
		recreate bool // another process creates the new file, not File
		reopen   bool
	}{
		{"deleted", os.Remove, false, false},
		{"deleted, recreated", os.Remove, true, false},
		{"deleted, Reopen", os.Remove, false, true},
		{"deleted, recreated, Reopen", os.Remove, true, true},
		{"moved away", moveAway, false, false},
		{"moved away, recreated", moveAway, true, false},
		{"moved away, Reopen", moveAway, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			s := &recordingSealer{}
			f, err := exporter.NewFile(path, exporter.WithSealer(s))
			if err != nil {
				t.Fatal(err)
			}
			r1, r2 := numbered(1), numbered(2)
			noErr(t, f.OnEmit(ctx, &r1))
			noErr(t, c.remove(path))
			if c.recreate {
				noErr(t, os.WriteFile(path, nil, 0o600))
			}
			if c.reopen {
				noErr(t, f.Reopen())
			}
			want := line(r2)
			noErr(t, f.OnEmit(ctx, &r2))
			noErr(t, f.Shutdown(ctx))
			if data, _ := os.ReadFile(path); string(data) != want {
				t.Errorf("the new file holds %q, want the second record's line %q", data, want)
			}
			if got, rotates := s.state(); rotates != 1 || got != want {
				t.Errorf("sealer: %d rotations, then %q; want 1, then %q", rotates, got, want)
			}
			tree, index, _ := position(&r2)
			if tree != 2 || index != 0 {
				t.Errorf("second record at tree %d, index %d; want tree 2, index 0", tree, index)
			}
		})
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
