package seal

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestC2SPCheckpoints: every checkpoint written across rotations, clean and
// unclean restarts is a C2SP checkpoint (origin, canonical decimal size,
// base64 root, non-empty extension lines, a signed note), and for each
// origin the trees only grow, each consistent with the one before: what a
// witness (C2SP tlog-witness) requires before it cosigns.
func TestC2SPCheckpoints(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, t.TempDir())
	v, err := LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path)
	sv.write(20)
	os.Rename(path, path+".1")
	sv.reopen()
	sv.write(7)
	sv.close()
	sv2 := startService(t, keyPath, path)
	sv2.n = sv.n
	sv2.write(30)
	sv2.crash()
	sv3 := startService(t, keyPath, path)
	sv3.n = sv2.n + 1
	sv3.write(5)
	sv3.close()

	data, err := os.ReadFile(path + CheckpointsSuffix)
	if err != nil {
		t.Fatal(err)
	}
	type last struct {
		size   int64
		root   tlog.Hash
		leaves fullTree
	}
	byOrigin := map[string]*last{}
	n := 0
	for _, r := range splitEntries(data) {
		if r.err != nil || r.torn {
			t.Fatalf("entry at line %d: %v", r.line, r.err)
		}
		msg, err := note.Open(r.msg, note.VerifierList(v))
		if err != nil {
			t.Fatalf("entry at line %d: %v", r.line, err)
		}
		lines := strings.SplitN(msg.Text, "\n", 4)
		size, err := strconv.ParseInt(lines[1], 10, 64)
		if lines[0] == "" || err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
			t.Fatalf("entry at line %d: not a C2SP checkpoint:\n%s", r.line, msg.Text)
		}
		root, err := base64.StdEncoding.DecodeString(lines[2])
		if err != nil || len(root) != tlog.HashSize {
			t.Fatalf("entry at line %d: root %q", r.line, lines[2])
		}
		for _, ext := range strings.SplitAfter(lines[3], "\n") {
			if ext == "\n" {
				t.Fatalf("entry at line %d: an empty extension line", r.line)
			}
		}
		l := byOrigin[lines[0]]
		if l == nil {
			l = &last{}
			byOrigin[lines[0]] = l
		}
		if size < l.size {
			t.Fatalf("origin %s: tree shrinks from %d to %d", lines[0], l.size, size)
		}
		for _, h := range r.leaves {
			l.leaves.add(h)
		}
		if got := l.leaves.root(size); got != tlog.Hash(root) {
			t.Fatalf("origin %s: the stored leaves do not have the root of size %d", lines[0], size)
		}
		if l.size > 0 {
			proof, err := tlog.ProveTree(size, l.size, &l.leaves)
			if err == nil {
				err = tlog.CheckTree(proof, size, tlog.Hash(root), l.size, l.root)
			}
			if err != nil {
				t.Fatalf("origin %s: %d is not consistent with %d: %v", lines[0], size, l.size, err)
			}
		}
		l.size, l.root = size, tlog.Hash(root)
		n++
	}
	if len(byOrigin) != 2 || n < 6 {
		t.Fatalf("%d checkpoints of %d origins; want two files' origins", n, len(byOrigin))
	}
	for o := range byOrigin {
		if !strings.HasPrefix(o, DefaultLogName(path)+"/") {
			t.Errorf("origin %q does not name the log", o)
		}
	}
}
