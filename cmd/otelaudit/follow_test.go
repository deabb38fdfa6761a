package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

// numbered returns the record of line i of the rotation test: its user is
// u<i>.
func numbered(i int) string {
	t := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	return record(string(psono.AppendTime(nil, t)), "10.0.0.1", "LOGIN_SUCCESS", "u"+strconv.Itoa(i), 200)
}

// rotator writes numbered records to path and rotates it the way logrotate
// (rotate with a large count, create) and the service (SIGHUP) do: every
// rotated file moves up by one (audit.log.1 to audit.log.2...), audit.log
// becomes audit.log.1, the service writes late records to the old file, and
// then a new audit.log is created and written.
type rotator struct {
	path      string
	f         *os.File
	next      int // number of the next record
	rotations int
}

func (r *rotator) write(t *testing.T) {
	if _, err := r.f.WriteString(numbered(r.next)); err != nil {
		t.Error(err)
	}
	r.next++
}

// rotate rotates, writing late records to the old file after the rename.
func (r *rotator) rotate(t *testing.T, late int) {
	for k := r.rotations; k >= 1; k-- {
		if err := os.Rename(r.path+"."+strconv.Itoa(k), r.path+"."+strconv.Itoa(k+1)); err != nil {
			t.Error(err)
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		t.Error(err)
	}
	r.rotations++
	for range late {
		r.write(t)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	r.f.Close()
	r.f = f
}

// tail -f must print every record exactly once, in order, however fast the
// file is rotated compared to how often it looks.
func TestTailFollowsFastRotation(t *testing.T) {
	tests := []struct {
		name      string
		poll      string
		rotations int           // how many rotations
		perFile   int           // records written to each file before it rotates
		late      int           // records written to the old file after its rename
		pace      time.Duration // between two records: a few ms between rotations
	}{
		{"several rotations between two looks", "20ms", 40, 5, 0, 500 * time.Microsecond},
		{"looks more often than it rotates", "1ms", 30, 10, 0, 300 * time.Microsecond},
		{"late records in the moved file", "2ms", 30, 6, 2, 500 * time.Microsecond},
		{"all rotations at once", "5ms", 30, 3, 1, 0},
		{"empty files between", "3ms", 30, 0, 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			r := &rotator{path: path, f: f}
			r.write(t) // u0, there before tail starts
			st := start(t, "tail", "-f", "-n", "1", "-poll", tt.poll, path)
			st.waitFor(t, "the first record", func(out string) bool { return strings.Contains(out, "user=u0,") })

			done := make(chan struct{})
			go func() {
				defer close(done)
				for range tt.rotations {
					for range tt.perFile {
						r.write(t)
						time.Sleep(tt.pace) // pacing, not synchronisation
					}
					if tt.perFile == 0 {
						time.Sleep(tt.pace)
					}
					r.rotate(t, tt.late)
				}
				r.write(t)
				r.f.Close()
			}()
			<-done
			last := r.next - 1
			st.waitFor(t, fmt.Sprintf("record u%d", last), func(out string) bool {
				return strings.Contains(out, "user=u"+strconv.Itoa(last)+",")
			})
			if code := st.stop(t); code != 0 {
				t.Errorf("tail -f: exit %d after cancel\nstderr: %s", code, st.stderr.String())
			}
			var got []int
			for _, line := range strings.Split(strings.TrimSuffix(st.stdout.String(), "\n"), "\n") {
				l, err := psono.Parse(line)
				if err != nil {
					t.Fatalf("printed %q: %v", line, err)
				}
				u, _ := l.Get("user")
				n, err := strconv.Atoi(strings.TrimPrefix(u, "u"))
				if err != nil {
					t.Fatalf("printed %q", line)
				}
				got = append(got, n)
			}
			for i, n := range got {
				if n != i {
					t.Fatalf("tail -f printed records %v; want 0 to %d, each once, in order (first wrong at position %d)\nstderr: %s", got, last, i, st.stderr.String())
				}
			}
			if len(got) != last+1 {
				t.Errorf("tail -f printed %d records, want %d", len(got), last+1)
			}
			if st.stderr.String() != "" {
				t.Errorf("tail -f: stderr %q", st.stderr.String())
			}
		})
	}
}

// tail reads .gz files as search does; tail -f refuses them, since a
// compressed file does not grow.
func TestTailGzip(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "audit.log.2.gz")
	var content string
	for i := range 5 {
		content += numbered(i)
	}
	writeGzip(t, gz, content)
	disguised := filepath.Join(dir, "audit.log.2") // gzip content, plain name
	writeGzip(t, disguised, content)
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"tail", "-n", "2", gz}, 0, numbered(3) + numbered(4), ""},
		{[]string{"tail", "-n", "2", disguised}, 0, numbered(3) + numbered(4), ""},
		{[]string{"tail", "-n", "1", "-json", gz}, 0, `"user.name":"u4"`, ""},
		{[]string{"tail", "-f", gz}, 2, "", gz + " is gzip-compressed"},
		{[]string{"tail", "-f", disguised}, 2, "", disguised + " is gzip-compressed"},
	}
	for _, tt := range tests {
		code, out, errOut := cli(t, context.Background(), tt.args...)
		if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("otelaudit %q: exit %d, stdout %q, stderr %q; want exit %d, %q in stdout and %q in stderr",
				tt.args, code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
		}
	}
}
