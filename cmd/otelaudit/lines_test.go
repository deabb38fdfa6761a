package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/otelaudit/otelaudit/seal"
)

// A line without a newline (a file of zeros, a sparse file, a gzip bomb)
// must end search and tail with an error naming the file and the line, in
// bounded memory, instead of being read whole.
func TestLongLines(t *testing.T) {
	const MiB = 1 << 20
	good := record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "alice", 200)
	var (
		bombOnce sync.Once
		bomb     []byte
	)
	zeros := func() []byte { // 16 MiB of zeros, without a newline, as one gzip member
		bombOnce.Do(func() { bomb = gzipMember(t, make([]byte, MiB), 16) })
		return bomb
	}
	tests := []struct {
		name     string
		write    func(t *testing.T, path string)
		wantLine int    // the line the error names; 0: no error
		wantCode int    // search's exit status
		tailCode int    // tail's exit status
		wantOut  string // in tail's output
	}{
		{"2 MiB without newline", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("x"), 2*MiB), 0o600)
		}, 1, 2, 2, ""},
		{"record, then 2 MiB of zeros", func(t *testing.T, path string) {
			os.WriteFile(path, append([]byte(good), make([]byte, 2*MiB)...), 0o600)
		}, 2, 2, 2, ""},
		{"record, long line, record", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(good+strings.Repeat("y", MiB+1)+"\n"+good), 0o600)
		}, 2, 2, 2, ""},
		{"a line of exactly 1 MiB is only skipped", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(good+strings.Repeat("y", MiB)+"\n"+good), 0o600)
		}, 0, 0, 0, "LOGIN_SUCCESS"},
		{"sparse file of 4 GiB", func(t *testing.T, path string) {
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(good)
			if err := f.Truncate(4 << 30); err != nil {
				t.Skipf("no sparse file: %v", err)
			}
			f.Close()
		}, 2, 2, 2, ""},
		{"gzip bomb: 11 MB of gzip, 11 GiB of zeros", func(t *testing.T, path string) {
			writeMembers(t, path, zeros(), 11<<20/len(zeros()))
		}, 1, 2, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			tt.write(t, path)
			for _, args := range [][]string{
				{"search", path},
				{"search", "-json", path},
				{"tail", "-n", "3", path},
				{"tail", "-f", "-n", "3", path}, // fails before following
			} {
				want := tt.wantCode
				if args[0] == "tail" {
					want = tt.tailCode
				}
				if args[1] == "-f" && tt.wantLine == 0 {
					continue // it would follow
				}
				if strings.Contains(tt.name, "gzip") && args[1] == "-f" {
					continue // refused, see TestTailGzip
				}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				code, out, errOut := cli(t, context.Background(), args...)
				runtime.ReadMemStats(&after)
				if code != want {
					t.Errorf("otelaudit %q: exit %d, want %d\nstderr: %s", args, code, want, errOut)
				}
				if tt.wantLine > 0 {
					wantErr := path + ":" + string(rune('0'+tt.wantLine)) + ": line longer than 1 MiB"
					if !strings.Contains(errOut, wantErr) {
						t.Errorf("otelaudit %q: stderr %q does not say %q", args, errOut, wantErr)
					}
				}
				if !strings.Contains(out, tt.wantOut) {
					t.Errorf("otelaudit %q: output %q does not hold %q", args, out, tt.wantOut)
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 48*MiB {
					t.Errorf("otelaudit %q allocated %d MiB: a long line must not be held", args, alloc/MiB)
				}
			}
		})
	}
}

// A long line written while tail -f follows ends it with the error too.
func TestTailFollowLongLine(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write string
	}{
		{"no newline", strings.Repeat("z", 3<<20)},
		{"with newline", strings.Repeat("z", 2<<20) + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			os.WriteFile(path, []byte(record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "first", 200)), 0o600)
			st := start(t, "tail", "-f", "-poll", "2ms", path)
			st.waitFor(t, "the first record", func(out string) bool { return strings.Contains(out, "first") })
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(record("2026-11-29T10:00:01", "10.0.0.1", "LOGIN_SUCCESS", "second", 200))
			f.WriteString(tt.write)
			f.Close()
			if code := st.wait(t, 20e9); code != 2 {
				t.Errorf("tail -f: exit %d, want 2", code)
			}
			if want := path + ":3: line longer than 1 MiB"; !strings.Contains(st.stderr.String(), want) {
				t.Errorf("tail -f: stderr %q does not say %q", st.stderr.String(), want)
			}
			if !strings.Contains(st.stdout.String(), "second") {
				t.Errorf("tail -f did not print the record before the long line:\n%s", st.stdout.String())
			}
		})
	}
}

func TestLineReader(t *testing.T) {
	const max = 1 << 20
	tests := []struct {
		name    string
		in      string
		follow  bool
		want    []int // lengths of the lines returned
		wantErr int64 // the line of a too-long error; 0: io.EOF
	}{
		{"empty", "", false, nil, 0},
		{"lines and empty lines", "a\n\nbc\n", false, []int{1, 0, 2}, 0},
		{"last line without newline", "a\nbc", false, []int{1, 2}, 0},
		{"follow holds it back", "a\nbc", true, []int{1}, 0},
		{"exactly the limit", strings.Repeat("x", max) + "\nb", false, []int{max, 1}, 0},
		{"limit and newline split over reads", "a\n" + strings.Repeat("x", max) + "\n", false, []int{1, max}, 0},
		{"one over, with newline", "a\n" + strings.Repeat("x", max+1) + "\nb\n", false, []int{1}, 2},
		{"one over, at the end", "a\n" + strings.Repeat("x", max+1), false, []int{1}, 2},
		{"one over, following", "a\n" + strings.Repeat("x", max+1), true, []int{1}, 2},
		{"the limit, following, no newline yet", strings.Repeat("x", max), true, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.in), tt.follow)
			var got []int
			var err error
			for {
				var line []byte
				if line, err = lr.next(); err != nil {
					break
				}
				got = append(got, len(line))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("lines of %d bytes: %v, want %v", len(tt.in), got, tt.want)
			}
			var le *seal.LineError
			switch {
			case tt.wantErr == 0 && err != io.EOF:
				t.Errorf("error %v, want io.EOF", err)
			case tt.wantErr != 0 && (!errors.As(err, &le) || le.Line != tt.wantErr || !errors.Is(err, seal.ErrLineTooLong)):
				t.Errorf("error %v, want line %d too long", err, tt.wantErr)
			}
		})
	}
}
