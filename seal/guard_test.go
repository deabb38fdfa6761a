package seal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCheckpointsFileGuards: the checkpoints file gets audit.log's
// guarantees: a regular file only, never through a symbolic link, never
// waiting on a FIFO, and a deleted or replaced one noticed.
func TestCheckpointsFileGuards(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		keyPath, _ := newKey(t, t.TempDir())
		path := filepath.Join(dir, "audit.log")
		target := filepath.Join(dir, "elsewhere")
		if err := os.Symlink(target, path+CheckpointsSuffix); err != nil {
			t.Fatal(err)
		}
		_, err := New(keyPath, path)
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("New: %v; want a symbolic link refused", err)
		}
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the link's target was created: %v", err)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		dir := t.TempDir()
		keyPath, _ := newKey(t, t.TempDir())
		path := filepath.Join(dir, "audit.log")
		if err := syscall.Mkfifo(path+CheckpointsSuffix, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { _, err := New(keyPath, path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "FIFO") {
				t.Fatalf("New: %v; want a FIFO refused", err)
			}
		case <-ctx.Done():
			t.Fatal("New hangs on a FIFO at the checkpoints path")
		}
	})
	t.Run("deleted while running", func(t *testing.T) {
		dir := t.TempDir()
		keyPath, pubPath := newKey(t, t.TempDir())
		v, _ := LoadVerifier(pubPath)
		path := filepath.Join(dir, "audit.log")
		sv := startService(t, keyPath, path, WithErrorLog(func(error) {}))
		sv.write(5)
		if err := sv.s.Checkpoint("test"); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path + CheckpointsSuffix); err != nil {
			t.Fatal(err)
		}
		sv.write(5)
		sv.close()
		b, err := os.ReadFile(path + CheckpointsSuffix)
		if err != nil || !bytes.Contains(b, []byte("\nbreak the checkpoints file")) {
			t.Fatalf("the checkpoints went on in a new file recording the deletion? %v\n%s", err, b)
		}
		rep, err := Verify([]string{path}, v)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatal("verify accepted a chain whose checkpoints file was deleted while the service ran")
		}
	})
}

// TestTornWrites: a crash cuts the last line of audit.log, or the last
// entry of the checkpoints file; neither is glued to what comes next, and
// the untouched files verify.
func TestTornWrites(t *testing.T) {
	t.Run("audit.log", func(t *testing.T) {
		dir := t.TempDir()
		keyPath, pubPath := newKey(t, t.TempDir())
		v, _ := LoadVerifier(pubPath)
		path := filepath.Join(dir, "audit.log")
		sv := startService(t, keyPath, path, WithErrorLog(func(error) {}))
		sv.write(6)
		sv.s.Checkpoint("test")
		sv.f.WriteString("2026-11-29T16:50:00.000000 logger=restapi.views.datastore, user_") // kill -9 mid-write
		sv.crash()
		sv2 := startService(t, keyPath, path, WithErrorLog(func(error) {}))
		sv2.n = 100
		sv2.f.WriteString("\n") // what the file exporter writes before its first line on a torn file
		sv2.write(3)
		sv2.close()
		rep, err := Verify([]string{path}, v)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Files[0].Proven != 10 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "line 7 ") {
			t.Fatalf("problems %v, notes %q, files %+v; want 10 lines proven and line 7 noted as a fragment", rep.Problems, rep.Notes, rep.Files)
		}
	})
	t.Run("checkpoints", func(t *testing.T) {
		dir := t.TempDir()
		keyPath, pubPath := newKey(t, t.TempDir())
		v, _ := LoadVerifier(pubPath)
		path := filepath.Join(dir, "audit.log")
		sv := startService(t, keyPath, path)
		sv.write(6)
		sv.s.Checkpoint("test")
		sv.write(4)
		sv.crash()
		// A checkpoint write cut off: the first half of the next entry.
		b, _ := os.ReadFile(path + CheckpointsSuffix)
		last := b[bytes.LastIndex(b, []byte(entryMarker)):]
		appendTo(t, path+CheckpointsSuffix, string(last[:len(last)/2]))
		sv2 := startService(t, keyPath, path)
		sv2.n = sv.n
		sv2.write(2)
		sv2.close()
		rep, err := Verify([]string{path}, v)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Files[0].Proven != 12 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "cut off") {
			t.Fatalf("problems %v, notes %q, files %+v; want 12 lines proven and the torn entry noted", rep.Problems, rep.Notes, rep.Files)
		}
	})
}

// TestOrigin: checkpoints name their log; another host's files, sealed with
// the same key, do not verify as this log's.
func TestOrigin(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, t.TempDir())
	v, _ := LoadVerifier(pubPath)
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path, WithOrigin("other-host/var/log/psono/audit.log"))
	sv.write(5)
	sv.close()
	rep, err := Verify([]string{path}, v)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Problems[0].Msg, "another host's") {
		t.Fatalf("problems %v; want the other origin reported", rep.Problems)
	}
	rep, err = VerifyWith([]string{path}, VerifyOptions{Log: "other-host/var/log/psono/audit.log"}, v)
	if err != nil || !rep.OK() {
		t.Fatalf("with -log of the other host: %v %v", err, rep.Problems)
	}
	b, _ := os.ReadFile(path + CheckpointsSuffix)
	if !bytes.HasPrefix(b, []byte(entryMarker+"\nother-host/var/log/psono/audit.log/1\n0\n")) {
		t.Fatalf("the first checkpoint's origin line is not LOG/TREE:\n%.200s", b)
	}
}

// TestKeyHygiene: a private key others may read is reported, and refused
// with WithStrictKey.
func TestKeyHygiene(t *testing.T) {
	dir := t.TempDir()
	keyPath, _ := newKey(t, t.TempDir())
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	if _, err := New(keyPath, path, WithStrictKey(true)); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("strict: %v; want the key's mode refused", err)
	}
	var warned []error
	s, err := New(keyPath, path, WithErrorLog(func(err error) { warned = append(warned, err) }))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(warned) == 0 || !strings.Contains(warned[0].Error(), "WARNING") {
		t.Fatalf("warnings %v; want the key's mode reported", warned)
	}
}

// TestRotateIntoFileWithLines: after a rotation the service opens a new
// audit.log that another process already wrote lines to; they are sealed as
// they are, but marked, and verify fails.
func TestRotateIntoFileWithLines(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, t.TempDir())
	v, _ := LoadVerifier(pubPath)
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path, WithErrorLog(func(error) {}))
	sv.write(5)
	os.Rename(path, path+".1")
	os.WriteFile(path, []byte("2026-11-29T16:00:00.000000 logger=x, user_ip=10.0.0.1, success=True, event=LOGIN_SUCCESS\n"), 0o600)
	sv.reopen()
	sv.write(2)
	sv.close()
	rep, err := Verify([]string{path, path + ".1"}, v)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Problems[0].Msg, "written by another process") {
		t.Fatalf("problems %v; want the foreign line reported", rep.Problems)
	}
}

// TestBlockedErrorLog: an error log that never returns (standard error a
// pipe nobody reads) holds up neither New, Append, Rotate nor Close, even
// while the sealer has something to report.
func TestBlockedErrorLog(t *testing.T) {
	dir := t.TempDir()
	keyPath, _ := newKey(t, t.TempDir())
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte("2026-11-29T16:00:00.000000 logger=x, user_ip=10.0.0.1, success=True, event=LOGIN_SUCCESS\n"), 0o600)
	block := make(chan struct{})
	defer close(block)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sv := startService(t, keyPath, path, WithErrorLog(func(error) { <-block }))
		for i := 0; i < 100; i++ { // more reports than the sealer keeps
			sv.s.report(errors.New("x"))
		}
		sv.write(3)
		os.Rename(path, path+".1")
		os.WriteFile(path, []byte("foreign line\n"), 0o600) // a TAMPERING report at Rotate
		sv.reopen()
		sv.write(2)
		sv.close()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a blocked error log held the sealer up")
	}
}

// TestLiveTailBeforeFirstCheckpoint: while the service runs and has signed
// only its start checkpoint (a first start, or a new file after a
// rotation), the lines it wrote are the live tail, not lines no checkpoint
// covers.
func TestLiveTailBeforeFirstCheckpoint(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, t.TempDir())
	v, _ := LoadVerifier(pubPath)
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path, WithEvery(0))
	sv.write(3)
	rep, err := Verify([]string{path}, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || len(rep.Tail) != 1 || rep.Files[0].Tail != 3 {
		t.Fatalf("first start: problems %v, tail %q, files %+v; want 3 lines of live tail", rep.Problems, rep.Tail, rep.Files)
	}
	sv.write(2)
	sv.s.Checkpoint("test")
	os.Rename(path, path+".1")
	sv.reopen()
	sv.write(4)
	rep, err = Verify([]string{path, path + ".1"}, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || len(rep.Tail) != 1 || !strings.Contains(rep.Tail[0], "lines 1 to 4") {
		t.Fatalf("after a rotation: problems %v, tail %q, files %+v; want the new file's 4 lines as live tail", rep.Problems, rep.Tail, rep.Files)
	}
	sv.close()
	if rep, err = Verify([]string{path, path + ".1"}, v); err != nil || !rep.OK() {
		t.Fatalf("after the close: %v %v %q", err, rep.Problems, rep.Tail)
	}
}
