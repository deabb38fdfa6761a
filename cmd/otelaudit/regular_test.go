//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a FIFO at path. At the end of the test it opens the FIFO for
// writing once, so that a reader wrongly blocked in open(2) is let go.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// A FIFO among the files is refused at once (exit 2, naming it), never
// waited on.
func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "audit.log.1")
	os.WriteFile(good, []byte(record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "alice", 200)), 0o600)
	fifo := filepath.Join(dir, "audit.log")
	mkfifo(t, fifo)
	tests := [][]string{
		{"search", good, fifo},
		{"search", fifo, good},
		{"search", "-json", fifo},
		{"tail", fifo},
		{"tail", "-n", "0", fifo},
		{"tail", "-f", fifo},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			st := start(t, args...)
			code := st.wait(t, 5*time.Second)
			if code != 2 {
				t.Errorf("otelaudit %q: exit %d, want 2", args, code)
			}
			if errOut := st.stderr.String(); !strings.Contains(errOut, fifo) || !strings.Contains(errOut, "not a regular file") {
				t.Errorf("otelaudit %q: stderr %q does not name %s as not a regular file", args, errOut, fifo)
			}
		})
	}
}

// tail -f must not open a FIFO that appears at the path it follows.
func TestTailFollowRefusesFIFOAfterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "first", 200))
	st := start(t, "tail", "-f", "-poll", "2ms", path)
	st.waitFor(t, "the first record", func(out string) bool { return strings.Contains(out, "first") })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, path)
	if code := st.wait(t, 10*time.Second); code != 2 {
		t.Errorf("tail -f: exit %d, want 2", code)
	}
	if errOut := st.stderr.String(); !strings.Contains(errOut, path+" is not a regular file") {
		t.Errorf("tail -f: stderr %q does not name %s as not a regular file", errOut, path)
	}
}

// Cancelling the context (SIGINT in main) ends every subcommand promptly,
// whatever it is doing.
func TestCancelEndsPromptly(t *testing.T) {
	dir := t.TempDir()
	rec := record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "alice", 200)
	// 8 MB of gzip holding tens of millions of records: minutes of work.
	big := filepath.Join(dir, "big.log.gz")
	member := gzipMember(t, []byte(strings.Repeat(rec, 4096)), 64)
	writeMembers(t, big, member, 8<<20/len(member))
	quiet := filepath.Join(dir, "audit.log")
	os.WriteFile(quiet, []byte(rec), 0o600)
	moved := filepath.Join(dir, "moved", "audit.log")
	os.Mkdir(filepath.Dir(moved), 0o700)
	os.WriteFile(moved, []byte(rec), 0o600)
	fifo := filepath.Join(dir, "fifo.log")
	mkfifo(t, fifo)

	tests := []struct {
		name  string
		args  []string
		ready func(t *testing.T, st *started) // waits until it is busy
		want  []int                           // acceptable exit statuses
	}{
		{"search of a huge file", []string{"search", big}, printed, []int{2}},
		{"search -json of a huge file", []string{"search", "-json", big}, printed, []int{2}},
		{"tail of a huge file", []string{"tail", big}, nil, []int{2}},
		{"tail -f waiting for lines", []string{"tail", "-f", "-poll", "1h", quiet}, printed, []int{0}},
		{"tail -f while the path is missing", []string{"tail", "-f", "-poll", "1ms", moved}, func(t *testing.T, st *started) {
			printed(t, st)
			if err := os.Rename(moved, moved+".1"); err != nil {
				t.Fatal(err)
			}
			// A record written to the file after it moved is printed: tail
			// -f has looked at the path while it was missing, and goes on.
			f, err := os.OpenFile(moved+".1", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(record("2026-11-29T10:00:01", "10.0.0.1", "LOGIN_SUCCESS", "after the move", 200))
			f.Close()
			st.waitFor(t, "the record written after the move", func(out string) bool { return strings.Contains(out, "after the move") })
		}, []int{0}},
		{"search of a FIFO", []string{"search", fifo}, nil, []int{2}},
		{"tail -f of a FIFO", []string{"tail", "-f", fifo}, nil, []int{2}},
		{"keygen", []string{"keygen", "-dir", filepath.Join(dir, "keys"), "k"}, nil, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := start(t, tt.args...)
			if tt.ready != nil {
				tt.ready(t, st)
			}
			code := st.stop(t)
			ok := false
			for _, w := range tt.want {
				ok = ok || code == w
			}
			if !ok {
				t.Errorf("otelaudit %q after cancel: exit %d, want one of %v\nstderr: %s", tt.args, code, tt.want, st.stderr.String())
			}
		})
	}
}

// printed waits until the command has printed something.
func printed(t *testing.T, st *started) {
	t.Helper()
	st.waitFor(t, "output", func(out string) bool { return out != "" })
}
