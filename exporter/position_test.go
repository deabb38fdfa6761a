package exporter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/otelaudit/otelaudit/exporter"
)

// TestUnsealedPositions: without a sealer every record written with Write or
// Sync learns the position of its line, from several goroutines, across a
// restart (the file goes on with its number, the lines counted at open), a
// rotation (Reopen: the next number, from line 0), a file ending in a
// fragment (the fragment is a line), a restart after a rotation made while
// the service was stopped, and a file truncated while it was stopped. The
// positions are the lines' own: line i of file n is the record placed (n, i).
func TestUnsealedPositions(t *testing.T) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			// files[n] holds the URL of the record at each line of file n.
			placed := map[[2]int64]int{}
			var mu sync.Mutex
			next := 0
			emit := func(t *testing.T, f *exporter.File, n int) {
				t.Helper()
				var wg sync.WaitGroup
				for range n {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := numbered(i)
						if err := f.OnEmit(context.Background(), &r); err != nil {
							t.Error(err)
						}
						tree, index, k := position(&r)
						if k != 2 {
							t.Errorf("record %d: %d position attributes, want 2", i, k)
						}
						mu.Lock()
						if prev, dup := placed[[2]int64{tree, index}]; dup {
							t.Errorf("records %d and %d both placed at %d:%d", prev, i, tree, index)
						}
						placed[[2]int64{tree, index}] = i
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			open := func() *exporter.File {
				f, err := exporter.NewFile(path, exporter.WithDurability(d), exporter.WithFallback(nil))
				noErr(t, err)
				return f
			}
			// check holds file n's lines to the records placed there.
			check := func(file string, tree int64) {
				t.Helper()
				data, err := os.ReadFile(file)
				noErr(t, err)
				lines := bytes.SplitAfter(data, []byte("\n"))
				if len(lines[len(lines)-1]) == 0 {
					lines = lines[:len(lines)-1]
				}
				for idx, line := range lines {
					i, ok := placed[[2]int64{tree, int64(idx)}]
					if !ok {
						if !bytes.Contains(line, []byte("/info/")) {
							continue // a line not written by File
						}
						t.Errorf("%s line %d (file %d): no record placed there: %q", file, idx, tree, line)
						continue
					}
					if want := []byte(urlOf(i)); !bytes.Contains(line, want) {
						t.Errorf("%s line %d (file %d): %q, want record %d's", file, idx, tree, line, i)
					}
				}
			}

			f := open()
			emit(t, f, 20)
			noErr(t, f.Shutdown(context.Background()))
			// A restart: file 1 goes on from line 20.
			f = open()
			emit(t, f, 5)
			// A rotation: file 2 from line 0.
			noErr(t, os.Rename(path, path+".1"))
			noErr(t, f.Reopen())
			emit(t, f, 7)
			noErr(t, f.Shutdown(context.Background()))
			// A fragment at the end of file 2 (a write cut short), then a
			// restart: the fragment is line 7, the next record line 8.
			appendTo(t, path, "2024-01-01T00:00:00 logger=cut")
			f = open()
			emit(t, f, 3)
			noErr(t, f.Shutdown(context.Background()))
			// Rotated while stopped: file 3.
			noErr(t, os.Rename(path, path+".2"))
			f = open()
			emit(t, f, 4)
			noErr(t, f.Shutdown(context.Background()))
			check(path+".1", 1)
			check(path+".2", 2)
			check(path, 3)
			if _, ok := placed[[2]int64{2, 7}]; ok {
				t.Error("the fragment's line was given to a record")
			}
			if _, ok := placed[[2]int64{2, 8}]; !ok {
				t.Error("no record after the fragment at line 8 of file 2")
			}
			// Truncated while stopped (copytruncate): file 4, from line 0.
			noErr(t, os.Truncate(path, 0))
			f = open()
			emit(t, f, 2)
			noErr(t, f.Shutdown(context.Background()))
			check(path, 4)
			if len(placed) != next {
				t.Errorf("%d positions for %d records", len(placed), next)
			}
			entries, err := exporter.ReadChain(exporter.ChainPath(path))
			noErr(t, err)
			if n := len(entries); n == 0 || entries[n-1].File != 4 || entries[n-1].Lines != 2 {
				t.Errorf("chain file: %+v, want file 4 with 2 lines last", entries)
			}
			if got := exporter.ChainPath(path); got != filepath.Join(dir, "audit.chain") {
				t.Errorf("ChainPath = %s", got)
			}
		})
	}
}

// TestBufferedNoPosition: with Buffered durability OnEmit returns before
// the line is written, so the record carries no position.
func TestBufferedNoPosition(t *testing.T) {
	f, err := exporter.NewFile(filepath.Join(t.TempDir(), "audit.log"), exporter.WithDurability(exporter.Buffered))
	noErr(t, err)
	r := numbered(1)
	noErr(t, f.OnEmit(context.Background(), &r))
	if _, _, n := position(&r); n != 0 {
		t.Errorf("%d position attributes, want none", n)
	}
	noErr(t, f.Shutdown(context.Background()))
}

// TestWithoutPositions: the records carry no position, and the numbering
// goes on all the same: a File opened later with positions numbers the next
// line after those written without.
func TestWithoutPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := exporter.NewFile(path, exporter.WithoutPositions(), exporter.WithFallback(nil))
	noErr(t, err)
	for i := range 3 {
		r := numbered(i)
		noErr(t, f.OnEmit(context.Background(), &r))
		if _, _, n := position(&r); n != 0 {
			t.Errorf("record %d: %d position attributes, want none", i, n)
		}
	}
	noErr(t, f.Shutdown(context.Background()))

	f, err = exporter.NewFile(path, exporter.WithFallback(nil))
	noErr(t, err)
	r := numbered(3)
	noErr(t, f.OnEmit(context.Background(), &r))
	if tree, index, n := position(&r); n != 2 || tree != 1 || index != 3 {
		t.Errorf("after three lines without positions: position %d:%d (%d attributes), want 1:3", tree, index, n)
	}
	noErr(t, f.Shutdown(context.Background()))
}

func urlOf(i int) string { return "/info/" + itoa(i) + "/" }

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	noErr(t, err)
	_, err = file.WriteString(s)
	noErr(t, err)
	noErr(t, file.Close())
}
