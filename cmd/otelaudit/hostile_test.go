package main

// Helpers of the tests of issue 16 (the command on hostile input): they run
// the command in-process through run, as main does.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// syncBuffer is a bytes.Buffer that a test may read while the command
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command line args in-process with ctx and returns its exit
// status and output. It fails the test when run does not return within 60s.
func cli(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &o, &e) }()
	select {
	case code = <-done:
		return code, o.String(), e.String()
	case <-time.After(60 * time.Second):
		t.Fatalf("otelaudit %q did not return within 60s; stderr so far: %s", args, e.String())
		return 0, "", ""
	}
}

// started is a command running in-process in the background.
type started struct {
	args           []string
	stdout, stderr syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

// start runs args in the background with a context the test cancels with
// st.stop.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := &started{args: args, cancel: cancel, done: make(chan int, 1)}
	go func() { st.done <- run(ctx, args, &st.stdout, &st.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-st.done:
		case <-time.After(10 * time.Second):
		}
	})
	return st
}

// waitFor polls the command's output until cond holds, failing the test after
// the deadline or when the command ends first.
func (st *started) waitFor(t *testing.T, what string, cond func(stdout string) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond(st.stdout.String()) {
		select {
		case code := <-st.done:
			st.done <- code
			if cond(st.stdout.String()) {
				return
			}
			t.Fatalf("otelaudit %q ended (exit %d) before %s\nstdout:\n%s\nstderr:\n%s", st.args, code, what, st.stdout.String(), st.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("otelaudit %q: no %s within 20s\nstdout:\n%s\nstderr:\n%s", st.args, what, st.stdout.String(), st.stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// stop cancels the command's context and returns its exit status; it fails
// the test when the command does not end within 5s of the cancel.
func (st *started) stop(t *testing.T) int {
	t.Helper()
	st.cancel()
	return st.wait(t, 5*time.Second)
}

// wait returns the exit status once the command ends, failing the test after
// d.
func (st *started) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case code := <-st.done:
		st.done <- code
		return code
	case <-time.After(d):
		t.Fatalf("otelaudit %q did not end within %v\nstderr:\n%s", st.args, d, st.stderr.String())
		return 0
	}
}

// gzipMember returns one gzip member holding content repeated n times.
func gzipMember(t *testing.T, content []byte, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	for range n {
		zw.Write(content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeMembers writes a gzip file of member repeated n times (a gzip reader
// reads every member).
func writeMembers(t *testing.T, path string, member []byte, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := f.Write(member); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawControl returns a description of the first byte sequence in s that
// would reach a terminal raw: a C0 control other than the newline ending a
// line, DEL, a C1 control or a byte that is not UTF-8; "" when there is none.
func rawControl(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("invalid UTF-8 byte %#x at byte %d", s[i], i)
		case r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("control %U at byte %d", r, i)
		}
		i += size
	}
	return ""
}
