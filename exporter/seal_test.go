package exporter_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// sealKey writes a key pair into a temporary folder and returns the private
// key's path and a function that verifies files with the public key.
func sealKey(t testing.TB) (string, func(paths ...string) *seal.Report) {
	t.Helper()
	keyPath, pubPath, err := seal.WriteKeyFiles(t.TempDir(), "exporter-test")
	if err != nil {
		t.Fatal(err)
	}
	v, err := seal.LoadVerifier(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	return keyPath, func(paths ...string) *seal.Report {
		t.Helper()
		rep, err := seal.Verify(paths, v)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
}

// position returns the position attributes of r.
func position(r *sdklog.Record) (tree, index int64, n int) {
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case psono.LogTree:
			tree, n = kv.Value.AsInt64(), n+1
		case psono.LogIndex:
			index, n = kv.Value.AsInt64(), n+1
		}
		return true
	})
	return tree, index, n
}

func numbered(i int) sdklog.Record {
	return record("READ_INFO_SUCCESS", attribute.String(string(psono.ReqURL.Attr), fmt.Sprintf("/info/%d/", i)),
		attribute.Bool(string(psono.Success.Attr), true), attribute.Int(string(psono.Status.Attr), 200))
}

// TestSealedFile writes records from several goroutines to a sealed File
// across a rotation with Reopen, a Reopen of the same file and a file
// replaced behind File's back; every record learns the position of its
// line, and seal.Verify proves every line of the three files.
func TestSealedFile(t *testing.T) {
	keyPath, verify := sealKey(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	var cps []seal.Checkpoint
	s, err := seal.New(keyPath, path, seal.WithEvery(5), seal.WithInterval(0),
		seal.WithCheckpointFunc(func(c seal.Checkpoint) { cps = append(cps, c) }))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	var errMu sync.Mutex
	f, err := exporter.NewFile(path, exporter.WithSealer(s), exporter.WithErrorLog(func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	next := 0
	// emit writes n records from 4 goroutines and returns them.
	emit := func(n int) []sdklog.Record {
		recs := make([]sdklog.Record, n)
		for i := range recs {
			recs[i] = numbered(next)
			next++
		}
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < n; i += 4 {
					if err := f.OnEmit(ctx, &recs[i]); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return recs
	}
	// check compares the records' positions with the file's lines.
	check := func(file string, tree int64, recs []sdklog.Record) {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		lines = lines[:len(lines)-1]
		if len(lines) != len(recs) {
			t.Fatalf("%s has %d lines for %d records", file, len(lines), len(recs))
		}
		seen := map[int64]bool{}
		for i := range recs {
			tr, idx, n := position(&recs[i])
			if n != 2 || tr != tree || idx < 0 || idx >= int64(len(lines)) || seen[idx] {
				t.Fatalf("record %d: position tree %d, index %d (%d attributes); want tree %d, a new index below %d", i, tr, idx, n, tree, len(lines))
			}
			seen[idx] = true
			if want := exporter.AppendLine(nil, &recs[i], time.UTC); !bytes.Equal(lines[idx], want) {
				t.Errorf("record %d says it is line %d of %s, which is\n%s\nnot\n%s", i, idx, file, lines[idx], want)
			}
		}
	}

	first := emit(23)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err != nil { // SIGHUP after logrotate
		t.Fatal(err)
	}
	second := emit(9)
	if err := f.Reopen(); err != nil { // the same file again: no rotation
		t.Fatal(err)
	}
	second = append(second, emit(8)...)
	// Moved away without a Reopen: the next write finds the path empty.
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	third := emit(12)
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 0 {
		t.Fatalf("errors reported: %v", errs)
	}
	check(path+".1", 1, first)
	check(path+".2", 2, second)
	check(path, 3, third)

	rep := verify(path, path+".1", path+".2")
	if !rep.OK() {
		t.Fatalf("verify: problems %v", rep.Problems)
	}
	for i, fr := range rep.Files {
		if fr.Tree != int64(i+1) || fr.Proven != fr.Lines {
			t.Errorf("file %d: %+v", i, fr)
		}
	}
	var reasons []string
	for _, c := range cps {
		reasons = append(reasons, fmt.Sprintf("%d:%d:%s", c.Tree, c.Size, c.Reason))
	}
	// Tree 1: start, every 5 lines (or more, group commits), rotate; tree
	// 2: start, ..., rotate; tree 3: start, ..., close.
	last := cps[len(cps)-1]
	if last.Tree != 3 || last.Size != 12 || last.Reason != "close" || cps[0].Reason != "start" {
		t.Errorf("checkpoints %v", reasons)
	}
	rotates := 0
	for _, c := range cps {
		if c.Reason == "rotate" {
			rotates++
		}
	}
	if rotates != 2 {
		t.Errorf("%d rotations sealed, want 2: %v", rotates, reasons)
	}
}

// TestSealedFileBytes: sealing changes no byte of audit.log.
func TestSealedFileBytes(t *testing.T) {
	keyPath, _ := sealKey(t)
	dir := t.TempDir()
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			plainPath := filepath.Join(dir, d.String()+"-plain.log")
			sealedPath := filepath.Join(dir, d.String()+"-sealed.log")
			s, err := seal.New(keyPath, sealedPath, seal.WithEvery(3), seal.WithInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := exporter.NewFile(plainPath, exporter.WithDurability(d))
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := exporter.NewFile(sealedPath, exporter.WithDurability(d), exporter.WithSealer(s))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := 0; i < 20; i++ {
				r1, r2 := numbered(i), numbered(i)
				if err := plain.OnEmit(ctx, &r1); err != nil {
					t.Fatal(err)
				}
				if err := sealed.OnEmit(ctx, &r2); err != nil {
					t.Fatal(err)
				}
				_, _, n := position(&r2)
				if want := map[bool]int{true: 0, false: 2}[d == exporter.Buffered]; n != want {
					t.Fatalf("record has %d position attributes with %s durability, want %d", n, d, want)
				}
			}
			batch := []sdklog.Record{numbered(100), numbered(101)}
			if err := plain.Export(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if err := sealed.Export(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if err := plain.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sealed.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(plainPath)
			b, _ := os.ReadFile(sealedPath)
			if !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("sealed audit.log differs from the unsealed one:\n%s\n---\n%s", b, a)
			}
			if _, err := os.Stat(sealedPath + seal.CheckpointsSuffix); err != nil {
				t.Error(err)
			}
		})
	}
}

// countingSealer records the calls a File makes.
type countingSealer struct {
	mu      sync.Mutex
	lines   int64
	rotates int
	closes  int
}

func (c *countingSealer) Append(b []byte) (int64, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := c.lines
	c.lines += int64(bytes.Count(b, []byte("\n")))
	return int64(c.rotates + 1), first
}
func (c *countingSealer) Rotate() error { c.rotates++; return nil }
func (c *countingSealer) Close() error  { c.closes++; return nil }

// TestSealerCalls: NewFile does not rotate, Shutdown closes once.
func TestSealerCalls(t *testing.T) {
	c := &countingSealer{}
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := exporter.NewFile(path, exporter.WithSealer(c))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var idx []int64
	for i := 0; i < 3; i++ {
		r := numbered(i)
		if err := f.OnEmit(ctx, &r); err != nil {
			t.Fatal(err)
		}
		_, index, _ := position(&r)
		idx = append(idx, index)
	}
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(idx, func(i, j int) bool { return idx[i] < idx[j] }) || idx[2] != 2 ||
		c.lines != 3 || c.rotates != 0 || c.closes != 1 {
		t.Errorf("indices %v, sealer saw %d lines, %d rotations, %d closes", idx, c.lines, c.rotates, c.closes)
	}
}

// BenchmarkFileSealed is BenchmarkFile's write path with and without a
// sealer (seal.Sealer, default checkpoint settings but no timer): the
// difference is what sealing costs a record, hashing its line and adding its
// position to the record. Every goroutine emits a fresh copy of the record
// each time (a record is emitted once), in both cases.
func BenchmarkFileSealed(b *testing.B) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Buffered} {
		for _, sealed := range []bool{false, true} {
			name := d.String() + "/sealer=off"
			if sealed {
				name = d.String() + "/sealer=on"
			}
			b.Run(name, func(b *testing.B) {
				dir := b.TempDir()
				path := filepath.Join(dir, "audit.log")
				opts := []exporter.FileOption{exporter.WithDurability(d)}
				if sealed {
					keyPath, _, err := seal.WriteKeyFiles(dir, "bench")
					if err != nil {
						b.Fatal(err)
					}
					s, err := seal.New(keyPath, path, seal.WithInterval(0))
					if err != nil {
						b.Fatal(err)
					}
					opts = append(opts, exporter.WithSealer(s))
				}
				f, err := exporter.NewFile(path, opts...)
				if err != nil {
					b.Fatal(err)
				}
				r := benchRecord(b)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						rr := r.Clone()
						if err := f.OnEmit(ctx, &rr); err != nil {
							b.Error(err)
							return
						}
					}
				})
				if err := f.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				reportLines(b)
			})
		}
	}
}
