package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectorCopy: someone on the host deletes the newest lines and the
// checkpoints that cover them. The host's files alone look intact; the
// copy of the checkpoints the collector received shows the cut.
func TestCollectorCopy(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, dir)
	v, _ := LoadVerifier(pubPath)
	var collector []byte
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path, WithEvery(0), WithCheckpointFunc(func(c Checkpoint) { collector = append(collector, c.Entry()...) }))
	sv.write(20)
	if err := sv.s.Checkpoint("test"); err != nil {
		t.Fatal(err)
	}
	sv.write(30)
	sv.close()
	copyPath := filepath.Join(t.TempDir(), "collector.checkpoints")
	if err := os.WriteFile(copyPath, collector, 0o600); err != nil {
		t.Fatal(err)
	}

	// Untouched: intact with and without the collector's copy.
	for _, files := range [][]string{{path}, {path, copyPath}} {
		if rep, err := Verify(files, v); err != nil || !rep.OK() {
			t.Fatalf("untouched %v: %v %v", files, err, rep.Problems)
		}
	}

	// Keep the first 20 lines and the checkpoints up to the one of 20 lines.
	lines := readLines(t, path)
	writeLines(t, path, lines[:20])
	cp, _ := os.ReadFile(path + CheckpointsSuffix)
	var kept []byte
	for _, e := range bytes.Split(cp, []byte(entryMarker+"\n"))[1:] {
		kept = append(append(kept, entryMarker+"\n"...), e...)
		if string(bytes.SplitN(e, []byte("\n"), 3)[1]) == "20" {
			break
		}
	}
	os.WriteFile(path+CheckpointsSuffix, kept, 0o600)

	rep, err := Verify([]string{path}, v)
	if err != nil || !rep.OK() {
		t.Fatalf("the host's own files after the cut should look intact (that is the threat): %v %v", err, rep.Problems)
	}
	rep, err = Verify([]string{path, copyPath}, v)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Line != 21 || !strings.Contains(rep.Problems[0].Msg, "cut off") {
		t.Fatalf("with the collector's copy: problems %v; want audit.log:21 cut off", rep.Problems)
	}
}

// TestKeyRotation: the service restarts with a new key; the chain goes on,
// and verifying needs both public keys.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	oldKey, oldPub := newKey(t, t.TempDir())
	newKeyPath, newPub := newKey(t, t.TempDir())
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, oldKey, path)
	sv.write(20)
	sv.close()
	sv2 := startService(t, newKeyPath, path)
	sv2.n = sv.n
	sv2.write(20)
	sv2.close()
	vOld, _ := LoadVerifier(oldPub)
	vNew, _ := LoadVerifier(newPub)
	rep, err := Verify([]string{path}, vOld, vNew)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Files[0].Proven != 40 {
		t.Fatalf("with both keys: problems %v, files %+v; want 40 lines proven", rep.Problems, rep.Files)
	}
	rep, err = Verify([]string{path}, vNew)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Problems[0].String(), "signature") {
		t.Fatalf("with the new key only: problems %v; want the old checkpoints' signatures reported", rep.Problems)
	}
}
