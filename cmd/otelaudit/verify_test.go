package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/otelaudit/otelaudit/seal"
)

// sealedLogs writes a log sealed with a new key through three rotations by
// Debian's logrotate (compress) and returns its folder and public key.
func sealedLogs(t *testing.T) (dir, pub string) {
	t.Helper()
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/logrotate"); err != nil {
			t.Skip("logrotate is not installed (apt-get install -y logrotate)")
		}
		logrotate = "/usr/sbin/logrotate"
	}
	dir, keyDir := t.TempDir(), t.TempDir()
	key, pub, err := seal.WriteKeyFiles(keyDir, "cmd-test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	conf := filepath.Join(keyDir, "logrotate.conf")
	os.WriteFile(conf, []byte(path+" {\n\trotate 5\n\tcompress\n\tcreate 0600\n}\n"), 0o644)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(key, path, seal.WithEvery(8), seal.WithInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for file := 0; file < 4; file++ {
		for i := 0; i < 20; i++ {
			n++
			line := record(fmt.Sprintf("2026-11-29T10:%02d:%02d", n/60, n%60), "10.0.0.1", "READ_SECRET_SUCCESS", "alice", 200, "n", fmt.Sprint(n))
			f.WriteString(line)
			s.Append([]byte(line))
		}
		if file == 3 {
			break
		}
		if out, err := exec.Command(logrotate, "-f", "-s", filepath.Join(keyDir, "state"), conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		f.Close()
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, pub
}

// editGzip rewrites line n (from 1) of a gzip file with edit.
func editGzip(t *testing.T, path string, n int, edit func(string) string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	f.Close()
	lines := strings.SplitAfter(string(b), "\n")
	lines[n-1] = edit(lines[n-1])
	writeGzip(t, path, strings.Join(lines, ""))
}

func TestVerifyCommand(t *testing.T) {
	dir, pub := sealedLogs(t)
	logs := func(d string) []string {
		return []string{filepath.Join(d, "audit.log.2.gz"), filepath.Join(d, "audit.log"), filepath.Join(d, "audit.log.3.gz"), filepath.Join(d, "audit.log.1.gz")}
	}
	copyTo := func(t *testing.T) string {
		d := t.TempDir()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			os.WriteFile(filepath.Join(d, e.Name()), b, 0o600)
		}
		return d
	}
	tests := []struct {
		name     string
		tamper   func(t *testing.T, d string)
		args     func(d string) []string
		wantCode int
		wantOut  string
	}{
		{"intact", nil, func(d string) []string { return append([]string{"-key", pub}, logs(d)...) }, 0, "intact: 4 files, 80 of 80 lines proven"},
		{"altered", func(t *testing.T, d string) {
			editGzip(t, filepath.Join(d, "audit.log.1.gz"), 5, func(s string) string { return strings.Replace(s, "alice", "mallory", 1) })
		}, func(d string) []string { return append([]string{"-key", pub}, logs(d)...) }, 1, "audit.log.1.gz:5: this line differs"},
		{"cut off", func(t *testing.T, d string) {
			p := filepath.Join(d, "audit.log")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:bytes.Index(b, []byte("\n"))+1], 0o600)
		}, func(d string) []string { return append([]string{"-key", pub}, logs(d)...) }, 1, "audit.log:2: the file ends here"},
		{"middle file missing", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "audit.log.2.gz")) },
			func(d string) []string {
				return []string{"-key", pub, filepath.Join(d, "audit.log"), filepath.Join(d, "audit.log.1.gz"), filepath.Join(d, "audit.log.3.gz")}
			}, 1, "missing from the middle of the chain"},
		{"line after the close", func(t *testing.T, d string) {
			f, _ := os.OpenFile(filepath.Join(d, "audit.log"), os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(record("2026-11-29T11:00:00", "10.0.0.1", "X", "", 200))
			f.Close()
		}, func(d string) []string { return append([]string{"-key", pub, "-allow-tail"}, logs(d)...) }, 1, "lines 21 to 21 come after the checkpoint that closed this file"},
		{"emptied checkpoints", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, "audit.log.checkpoints"), nil, 0o600) },
			func(d string) []string { return append([]string{"-key", pub}, logs(d)...) }, 1, "hold no valid checkpoint"},
		{"deleted checkpoints", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "audit.log.checkpoints")) },
			func(d string) []string { return append([]string{"-key", pub}, logs(d)...) }, 1, "no checkpoints file"},
		{"json", nil, func(d string) []string { return append([]string{"-key", pub, "-json"}, logs(d)...) }, 0, `"intact": true`},
		{"json problem", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "audit.log.2.gz")) },
			func(d string) []string { return append([]string{"-key", pub, "-json"}, logs(d)[1:]...) }, 1, `"exit": 1`},
		{"fifo among the files", func(t *testing.T, d string) { syscall.Mkfifo(filepath.Join(d, "audit.log.0"), 0o600) },
			func(d string) []string {
				return append([]string{"-key", pub, filepath.Join(d, "audit.log.0")}, logs(d)...)
			}, 2, "not a regular file"},
		{"no key", nil, func(d string) []string { return logs(d) }, 2, ""},
		{"no files", nil, func(d string) []string { return []string{"-key", pub} }, 2, ""},
		{"missing file", nil, func(d string) []string { return []string{"-key", pub, filepath.Join(d, "nope")} }, 2, ""},
		{"private key given", nil, func(d string) []string {
			return append([]string{"-key", strings.TrimSuffix(pub, ".pub") + ".key"}, logs(d)...)
		}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := copyTo(t)
			if tt.tamper != nil {
				tt.tamper(t, d)
			}
			// The copies verify under the log name of the folder sealed.
			args := append([]string{"verify", "-log", seal.DefaultLogName(filepath.Join(dir, "audit.log"))}, tt.args(d)...)
			code, out, errOut := otelaudit(t, args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.wantOut) {
				t.Errorf("exit %d, want %d; output should hold %q:\n%s%s", code, tt.wantCode, tt.wantOut, out, errOut)
			}
			if code == 2 && errOut == "" {
				t.Error("usage error without a message")
			}
			if strings.Contains(tt.name, "json") && !json.Valid([]byte(out)) {
				t.Errorf("-json printed no valid JSON:\n%s", out)
			}
		})
	}
	t.Run("another host's log", func(t *testing.T) {
		code, out, errOut := otelaudit(t, append([]string{"verify", "-key", pub}, logs(copyTo(t))...)...)
		if code != 1 || !strings.Contains(out+errOut, "another host's or folder's checkpoints") {
			t.Errorf("exit %d, want 1 naming the other log:\n%s%s", code, out, errOut)
		}
	})
}
