package seal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestTreeMatchesTlog(t *testing.T) {
	var fr frontier
	var ft fullTree
	for n := 0; n < 300; n++ {
		if got, want := fr.root(), ft.root(int64(n)); got != want {
			t.Fatalf("size %d: frontier root %v, tlog root %v", n, got, want)
		}
		line := []byte(fmt.Sprintf("line %d", n))
		h := newLeafHasher().hash(line)
		if h != tlog.RecordHash(line) {
			t.Fatalf("leaf hash of %q differs from tlog.RecordHash", line)
		}
		fr.push(h)
		ft.add(h)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, dir)
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keyPath, fi.Mode().Perm())
	}
	signer, derived, err := LoadSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyHash() != derived.KeyHash() || v.Name() != "test-audit" {
		t.Errorf("public key %s/%08x, derived %s/%08x", v.Name(), v.KeyHash(), derived.Name(), derived.KeyHash())
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("note signed with %s does not verify with %s: %v", keyPath, pubPath, err)
	}
	if _, _, err := WriteKeyFiles(dir, "test-audit"); err == nil {
		t.Error("WriteKeyFiles overwrote an existing key")
	}
	if _, err := LoadVerifier(keyPath); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("LoadVerifier(private key) = %v, want an error saying it is the private key", err)
	}
	if _, _, err := LoadSigner(pubPath); err == nil {
		t.Error("LoadSigner accepted a public key")
	}
	// A missing folder is made, private.
	sub := filepath.Join(dir, "new", "keys")
	if _, _, err := WriteKeyFiles(sub, "test-audit"); err != nil {
		t.Fatalf("WriteKeyFiles into a missing folder: %v", err)
	}
	if fi, err := os.Stat(sub); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("key folder: %v, %v; want mode 0700", fi, err)
	}
}

// TestRestart: a service that stops (cleanly or not) and starts again
// continues the chain; lines after the last checkpoint are reported unproven
// until a checkpoint covers them.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, dir)
	v, err := LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")

	sv := startService(t, keyPath, path)
	sv.write(10)
	sv.close()

	sv2 := startService(t, keyPath, path)
	sv2.n = sv.n
	sv2.write(20) // one automatic checkpoint at 16 new lines... or at 32 in all
	if err := sv2.s.Checkpoint("test"); err != nil {
		t.Fatal(err)
	}
	sv2.write(3) // a crash: never checkpointed
	sv2.crash()

	rep, err := Verify([]string{path}, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || len(rep.Tail) != 1 || !strings.Contains(rep.Tail[0], "lines 31 to 33") || rep.OK() {
		t.Fatalf("after a crash: problems %v, tail %q; want none and lines 31 to 33 as the live tail", rep.Problems, rep.Tail)
	}

	sv3 := startService(t, keyPath, path) // seals the crash's lines at start
	sv3.close()
	rep, err = Verify([]string{path}, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Files[0].Proven != 33 || rep.Files[0].Tree != 1 || rep.Files[0].Adopted != 3 ||
		len(rep.Adopted) != 1 || !strings.Contains(rep.Adopted[0], "lines 31 to 33") {
		t.Fatalf("after restart: problems %v, tail %q, adopted %q, files %+v; want 33 lines proven in tree 1, lines 31 to 33 adopted", rep.Problems, rep.Tail, rep.Adopted, rep.Files)
	}
}

// TestRotatedWhileStopped: logrotate ran while the service was down; the
// new audit.log starts a new tree chained to the old one.
func TestRotatedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := newKey(t, dir)
	v, _ := LoadVerifier(pubPath)
	path := filepath.Join(dir, "audit.log")
	sv := startService(t, keyPath, path)
	sv.write(5)
	sv.close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	sv2 := startService(t, keyPath, path)
	sv2.write(4)
	sv2.close()
	rep, err := Verify([]string{path, path + ".1"}, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Files) != 2 || rep.Files[0].Tree != 1 || rep.Files[1].Tree != 2 {
		t.Fatalf("problems %v, files %+v; want audit.log.1 as file 1 and audit.log as file 2", rep.Problems, rep.Files)
	}
}

// sealedWithLogrotate writes a sealed log through three rotations done by
// Debian's logrotate (compress, rotate 5), as a service that reopens on
// SIGHUP does, and returns its folder and the public key.
func sealedWithLogrotate(t *testing.T) (dir string, v note.Verifier) {
	t.Helper()
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
			if _, err := os.Stat(p); err == nil {
				logrotate = p
			}
		}
		if logrotate == "" {
			t.Skip("logrotate is not installed (apt-get install -y logrotate)")
		}
	}
	dir = t.TempDir()
	keyDir := t.TempDir()
	keyPath, pubPath := newKey(t, keyDir)
	v, err = LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	conf := filepath.Join(keyDir, "logrotate.conf")
	state := filepath.Join(keyDir, "state")
	cfg := fmt.Sprintf("%s {\n\trotate 5\n\tcompress\n\tcreate 0600\n\tmissingok\n}\n", path)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sv := startService(t, keyPath, path)
	sizes := []int{40, 33, 57, 21} // lines per file, oldest first
	for i, n := range sizes {
		for n > 0 {
			k := min(n, 1+rand.IntN(5))
			sv.write(k)
			n -= k
		}
		if i == len(sizes)-1 {
			break
		}
		if out, err := exec.Command(logrotate, "-f", "-s", state, conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		sv.reopen()
	}
	sv.close()
	for _, name := range []string{"audit.log", "audit.log.1.gz", "audit.log.2.gz", "audit.log.3.gz", "audit.log.checkpoints"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("after three rotations: %v", err)
		}
	}
	return dir, v
}

func TestVerifyLogrotate(t *testing.T) {
	dir, v := sealedWithLogrotate(t)

	// Untouched, in any order: intact, nothing unproven.
	files := logs(t, dir)
	rand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	rep, err := Verify(files, v)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Unchecked) != 0 || len(rep.Adopted) != 0 {
		t.Fatalf("untouched files: problems %v, tail %q, unchecked %q, adopted %q", rep.Problems, rep.Tail, rep.Unchecked, rep.Adopted)
	}
	wantFiles := []string{"audit.log.3.gz", "audit.log.2.gz", "audit.log.1.gz", "audit.log"}
	for i, f := range rep.Files {
		if filepath.Base(f.Path) != wantFiles[i] || f.Tree != int64(i+1) || f.Proven != f.Lines {
			t.Errorf("file %d: %+v; want %s, tree %d, every line proven", i, f, wantFiles[i], i+1)
		}
	}

	swap := func(i, j int) func([][]byte) [][]byte {
		return func(l [][]byte) [][]byte { l[i], l[j] = l[j], l[i]; return l }
	}
	tests := []struct {
		name     string
		file     string
		edit     func(lines [][]byte) [][]byte // nil: remove the file
		wantFile string
		wantLine int64
		wantMsg  string
	}{
		{"altered", "audit.log.2.gz", func(l [][]byte) [][]byte {
			l[4] = bytes.Replace(l[4], []byte("success=True"), []byte("success=False"), 1)
			return l
		}, "audit.log.2.gz", 5, "altered"},
		{"removed", "audit.log.1.gz", func(l [][]byte) [][]byte { return append(l[:6], l[7:]...) }, "audit.log.1.gz", 7, "removed"},
		{"inserted", "audit.log", func(l [][]byte) [][]byte {
			return append(l[:3], append([][]byte{[]byte("2026-11-29T16:50:00 logger=x, user_ip=1.2.3.4\n")}, l[3:]...)...)
		}, "audit.log", 4, "inserted"},
		{"reordered", "audit.log.3.gz", swap(9, 10), "audit.log.3.gz", 10, "swapped"},
		{"reordered far", "audit.log.3.gz", swap(2, 30), "audit.log.3.gz", 3, "reordered"},
		{"truncated", "audit.log", func(l [][]byte) [][]byte { return l[:15] }, "audit.log", 16, "cut off"},
		{"last line cut", "audit.log.1.gz", func(l [][]byte) [][]byte {
			l[len(l)-2] = l[len(l)-2][:20] // l[len(l)-1] is the empty rest after the last newline
			return l
		}, "audit.log.1.gz", 57, "altered"},
		{"middle file missing", "audit.log.2.gz", nil, "", 0, "missing from the middle of the chain"},
		{"newest file missing", "audit.log", nil, "", 0, "is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := copyDir(t, dir)
			p := filepath.Join(d, tt.file)
			if tt.edit == nil {
				os.Remove(p)
			} else {
				writeLines(t, p, tt.edit(readLines(t, p)))
			}
			rep, err := VerifyWith(logs(t, d), asLog(dir), v)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("verify accepted the files (tail: %q)", rep.Tail)
			}
			p0 := rep.Problems[0]
			gotFile := ""
			if p0.File != "" {
				gotFile = filepath.Base(p0.File)
			}
			if gotFile != tt.wantFile || p0.Line != tt.wantLine || !strings.Contains(p0.Msg, tt.wantMsg) {
				t.Errorf("first problem %q; want %s:%d ...%s...", p0, tt.wantFile, tt.wantLine, tt.wantMsg)
			}
		})
	}

	t.Run("oldest file rotated away", func(t *testing.T) {
		d := copyDir(t, dir)
		os.Remove(filepath.Join(d, "audit.log.3.gz"))
		rep, err := VerifyWith(logs(t, d), asLog(dir), v)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || len(rep.Unchecked) != 1 || !strings.Contains(rep.Unchecked[0], "rotated away") {
			t.Errorf("problems %v, unchecked %q; want no problem and file 1 reported as not checked", rep.Problems, rep.Unchecked)
		}
	})
	t.Run("checkpoints rewritten", func(t *testing.T) {
		d := copyDir(t, dir)
		cp := filepath.Join(d, "audit.log.checkpoints")
		b, _ := os.ReadFile(cp)
		i := bytes.Index(b, []byte("-- leaves "))
		j := bytes.IndexByte(b[i:], '\n') + i + 1
		b[j] ^= 1 // a stored line hash
		os.WriteFile(cp, b, 0o600)
		rep, err := VerifyWith(logs(t, d), asLog(dir), v)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatal("verify accepted a changed line hash in the checkpoints file")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		_, pub := newKey(t, t.TempDir())
		other, _ := LoadVerifier(pub)
		rep, err := Verify(logs(t, dir), other)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatal("verify accepted checkpoints signed by another key")
		}
	})
}

func BenchmarkSealAppend(b *testing.B) {
	dir := b.TempDir()
	keyPath, _, err := WriteKeyFiles(dir, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(keyPath, filepath.Join(dir, "audit.log"), WithInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	line := []byte("2020-05-24T07:55:41.473771 logger=restapi.views.datastore, user_ip=10.10.10.145, req_method=GET, req_url=/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/, success=True, hostname=0a5048185933, status=HTTP_200_OK, event=LIST_DATASTORE_SUCCESS, user=demo2@example.com, user_id=ba504938-9a23-4162-867f-6840c301bc20, kwarg_datastore_id=bed4572d-6a28-4c00-94c2-dd45322de1d0\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		s.Append(line)
	}
}
