package seal

import (
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzParseEntries: no checkpoints file, however damaged, makes the parser
// panic or allocate by a count it reads (a leaves count of 10^18 once did).
func FuzzParseEntries(f *testing.F) {
	dir := f.TempDir()
	keyPath, pubPath, err := WriteKeyFiles(dir, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	v, err := LoadVerifier(pubPath)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	s, err := New(keyPath, path, WithInterval(0), WithErrorLog(func(error) {}))
	if err != nil {
		f.Fatal(err)
	}
	s.Append([]byte("a\nb\nc\n"))
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	data, err := readCheckpoints(path + CheckpointsSuffix)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(entryMarker + "\nx\n1\nAAAA\n\n— sig\n" + leavesMarker + "999999999999999999\n"))
	f.Add([]byte(entryMarker + "\n" + tornMarker + "\n" + entryMarker + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, _, _ := parseEntries(b, "fuzz", nil)
		if len(entries) != 0 {
			t.Fatalf("without a key, %d entries verified", len(entries))
		}
		entries, _, _ = parseEntries(b, "fuzz", []note.Verifier{v})
		for _, e := range entries {
			if e.hasLeaves && int64(len(e.leaves)) > int64(len(b)) {
				t.Fatalf("more leaves than bytes")
			}
		}
		readEntriesUnverified(b)
		tornTail(b)
	})
}
