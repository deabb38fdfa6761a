package seal

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// sealedLog is a sealed audit.log, its key and the collector's copy of its
// checkpoints.
type sealedLog struct {
	dir, path, keyPath string
	v                  note.Verifier
	copy               *[]byte // the collector's copy, as it grows
	opts               []Option
}

// newSealedLog writes audit.log.1 (file 1: 12 lines) and audit.log (file 2:
// 28 lines, two runs), each run closed cleanly, and keeps the collector's
// copy of the checkpoints.
func newSealedLog(t *testing.T) *sealedLog {
	t.Helper()
	sl := &sealedLog{dir: t.TempDir(), copy: new([]byte)}
	var pubPath string
	sl.keyPath, pubPath = newKey(t, t.TempDir())
	v, err := LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	sl.v = v
	sl.path = filepath.Join(sl.dir, "audit.log")
	sl.opts = []Option{WithCheckpointFunc(func(c Checkpoint) { *sl.copy = append(*sl.copy, c.Entry()...) })}
	sv := startService(t, sl.keyPath, sl.path, sl.opts...)
	sv.write(12)
	if err := os.Rename(sl.path, sl.path+".1"); err != nil {
		t.Fatal(err)
	}
	sv.reopen()
	sv.write(20)
	sv.close()
	sv2 := startService(t, sl.keyPath, sl.path, sl.opts...)
	sv2.n = sv.n
	sv2.write(8)
	sv2.close()
	return sl
}

// restart starts the service on the folder and stops it cleanly, as a
// routine deploy does.
func (sl *sealedLog) restart(t *testing.T) {
	t.Helper()
	sv := startService(t, sl.keyPath, sl.path, sl.opts...)
	sv.close()
}

// verify verifies the folder's audit logs and the extra files.
func (sl *sealedLog) verify(t *testing.T, extra ...string) *Report {
	t.Helper()
	rep, err := Verify(append(logs(t, sl.dir), extra...), sl.v)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAttacks: each rewrite of the folder, by someone who can write to it
// but has no key, ends in a verify that is not OK, with the problem that
// names it. Untouched, the same folder verifies.
func TestAttacks(t *testing.T) {
	editLine := func(path string, i int) func(t *testing.T) {
		return func(t *testing.T) {
			l := readLines(t, path)
			l[i] = bytes.Replace(l[i], []byte("success=True"), []byte("success=False"), 1)
			writeLines(t, path, l)
		}
	}
	tests := []struct {
		name    string
		attack  func(t *testing.T, sl *sealedLog)
		copy    bool   // verify with the collector's copy too
		wantMsg string // in one of the problems
	}{
		{"emptied checkpoints", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			os.WriteFile(path+CheckpointsSuffix, nil, 0o600)
			editLine(path, 3)(t)
		}, false, "no valid checkpoint"},
		{"deleted checkpoints", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			os.Remove(path + CheckpointsSuffix)
			editLine(path, 3)(t)
		}, false, "no checkpoints file"},
		{"edit line 3, restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			editLine(path, 2)(t)
			sl.restart(t)
		}, false, "line 3: this line differs"},
		{"delete line 5, restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			l := readLines(t, path)
			writeLines(t, path, append(l[:4], l[5:]...))
			sl.restart(t)
		}, false, "line was removed"},
		{"cut the last 3 lines, restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			l := readLines(t, path)
			writeLines(t, path, append(l[:len(l)-4], l[len(l)-1]))
			sl.restart(t)
		}, false, "cut off"},
		{"append after the clean close, restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			appendTo(t, path, "2026-11-29T16:59:59.000000 logger=restapi.views.login, user_ip=10.0.0.9, success=True, event=LOGIN_SUCCESS, user=admin\n")
			sl.restart(t)
		}, false, "added while the service was stopped"},
		{"replace the file, restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			l := readLines(t, path)
			l[0] = []byte("2026-11-29T16:00:00.000000 logger=x, user_ip=10.0.0.1, success=True, event=LOGIN_SUCCESS\n")
			os.Remove(path)
			writeLines(t, path, l)
			sl.restart(t)
		}, false, "while the service was stopped"},
		{"append, no restart", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			appendTo(t, path, "2026-11-29T16:59:59.000000 logger=x, user_ip=10.0.0.9, success=True, event=LOGIN_SUCCESS\n")
		}, false, "added after it was closed"},
		{"append to the rotated file", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			appendTo(t, path+".1", "2026-11-29T16:59:59.000000 logger=x, user_ip=10.0.0.9, success=True, event=LOGIN_SUCCESS\n")
		}, false, "added after it was closed"},
		{"a second gzip member on the rotated file", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			l := readLines(t, path+".1")
			os.Remove(path + ".1")
			writeLines(t, path+".1.gz", l)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte("2026-11-29T16:59:59.000000 logger=x, user_ip=10.0.0.9, success=True, event=LOGIN_SUCCESS\n"))
			zw.Close()
			appendTo(t, path+".1.gz", buf.String())
		}, false, "added after it was closed"},
		{"a fabricated rotated file", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			writeLines(t, path+".0", [][]byte{[]byte("2026-11-29T16:00:00.000000 logger=x, user_ip=10.0.0.1, success=True, event=LOGIN_SUCCESS\n")})
		}, false, "no checkpoint covers"},
		{"cut head of the checkpoints, edit the oldest file", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			b, _ := os.ReadFile(path + CheckpointsSuffix)
			i := bytes.Index(b[1:], []byte(entryMarker)) + 1
			os.WriteFile(path+CheckpointsSuffix, b[i:], 0o600)
			editLine(path+".1", 0)(t)
		}, false, "the checkpoints before it are missing"},
		{"rollback with the checkpoints deleted, restart; the collector's copy", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			os.Remove(path + CheckpointsSuffix)
			l := readLines(t, path)
			writeLines(t, path, append(l[:10], l[len(l)-1]))
			sl.restart(t)
		}, true, "a second chain starts here"},
		{"tail cut with its checkpoints, restart; the collector's copy", func(t *testing.T, sl *sealedLog) {
			path := sl.path
			// Keep file 2's first checkpoints only: what a rollback to an
			// earlier backup of the folder leaves.
			b, _ := os.ReadFile(path + CheckpointsSuffix)
			entries := bytes.SplitAfter(b, []byte("\n"+entryMarker+"\n"))
			os.WriteFile(path+CheckpointsSuffix, bytes.Join(entries[:4], nil)[:len(bytes.Join(entries[:4], nil))-len(entryMarker)-1], 0o600)
			sl.restart(t)
		}, true, "both follow the same checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl := newSealedLog(t)
			if rep := sl.verify(t); !rep.OK() {
				t.Fatalf("untouched: problems %v, tail %q", rep.Problems, rep.Tail)
			}
			tt.attack(t, sl)
			var extra []string
			if tt.copy {
				cp := filepath.Join(t.TempDir(), "collector.checkpoints")
				os.WriteFile(cp, *sl.copy, 0o600)
				extra = append(extra, cp)
			}
			rep := sl.verify(t, extra...)
			if rep.OK() {
				t.Fatalf("verify accepted the attack: files %+v, adopted %q", rep.Files, rep.Adopted)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || strings.Contains(p.Msg, tt.wantMsg)
			}
			if !found {
				t.Errorf("problems %v; want one saying %q", rep.Problems, tt.wantMsg)
			}
		})
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
