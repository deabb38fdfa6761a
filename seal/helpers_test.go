package seal

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// service writes audit.log the way the file exporter does (O_APPEND, whole
// lines) and tells its Sealer.
type service struct {
	t    *testing.T
	path string
	f    *os.File
	s    *Sealer
	n    int // lines written, for unique content
}

func newKey(t *testing.T, dir string) (keyPath, pubPath string) {
	t.Helper()
	keyPath, pubPath, err := WriteKeyFiles(dir, "test-audit")
	if err != nil {
		t.Fatal(err)
	}
	return keyPath, pubPath
}

func startService(t *testing.T, keyPath, path string, opts ...Option) *service {
	t.Helper()
	sv := &service{t: t, path: path}
	sv.open()
	opts = append([]Option{WithEvery(16), WithInterval(0)}, opts...)
	s, err := New(keyPath, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	sv.s = s
	return sv
}

func (sv *service) open() {
	f, err := os.OpenFile(sv.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		sv.t.Fatal(err)
	}
	sv.f = f
}

// write writes n records in one write, as a group commit does.
func (sv *service) write(n int) {
	sv.t.Helper()
	var b []byte
	for i := 0; i < n; i++ {
		sv.n++
		b = fmt.Appendf(b, "2026-11-29T16:50:%02d.%06d logger=restapi.views.datastore, user_ip=10.0.0.%d, req_method=GET, req_url=/datastore/%d/, success=True, hostname=h1, status=HTTP_200_OK, event=READ_DATASTORE_SUCCESS, user=demo%d@example.com\n",
			sv.n%60, sv.n, sv.n%250, sv.n, sv.n%7)
	}
	if _, err := sv.f.Write(b); err != nil {
		sv.t.Fatal(err)
	}
	sv.s.Append(b)
}

// reopen is what SIGHUP does after logrotate moved audit.log away.
func (sv *service) reopen() {
	sv.t.Helper()
	sv.f.Close()
	sv.open()
	if err := sv.s.Rotate(); err != nil {
		sv.t.Fatal(err)
	}
}

func (sv *service) close() {
	sv.t.Helper()
	sv.f.Close()
	if err := sv.s.Close(); err != nil {
		sv.t.Fatal(err)
	}
}

// readLines returns the lines of a plain or gzip file, with newlines.
func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	r, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

// writeLines writes lines to path, gzip-compressed when the name ends in .gz.
func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	if filepath.Ext(path) == ".gz" {
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.Join(lines, nil))
		zw.Close()
	} else {
		buf.Write(bytes.Join(lines, nil))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the files of dir into a new temporary folder.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// logs returns the audit log files of dir (audit.log*, not the checkpoints).
func logs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "audit.log*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range m {
		if filepath.Base(p) != "audit.log"+CheckpointsSuffix {
			out = append(out, p)
		}
	}
	return out
}

// asLog returns the options that verify copies of the files of dir under the
// log name they were sealed with there.
func asLog(dir string) VerifyOptions {
	return VerifyOptions{Log: DefaultLogName(filepath.Join(dir, "audit.log"))}
}

// crash ends the service as kill -9 would: the file and the checkpoints file
// are closed as they are, with no closing checkpoint, and the sealer's
// goroutine is gone (a checkpoint it was about to sign never comes).
func (sv *service) crash() {
	sv.t.Helper()
	sv.f.Close()
	s := sv.s
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.cpMu.Lock()
		defer s.cpMu.Unlock()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cpFile.Close()
		s.cpFile = nil
		close(s.quitRep)
	})
}
