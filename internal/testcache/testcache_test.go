package testcache_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/otelaudit/otelaudit/internal/testcache"
)

// TestEnsureBuildsOnce runs Ensure from several goroutines: the build runs
// once, everyone gets the same file, and later calls do not build.
func TestEnsureBuildsOnce(t *testing.T) {
	t.Setenv(testcache.EnvRoot, t.TempDir())
	var builds atomic.Int32
	build := func(ctx context.Context, work string) (string, error) {
		builds.Add(1)
		p := filepath.Join(work, "tool")
		return p, os.WriteFile(p, []byte("built"), 0o755)
	}

	const n = 8
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			paths[i], errs[i] = testcache.Ensure(t.Context(), "tool-v1", "tool", t.Logf, build)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Ensure %d: %v", i, errs[i])
		}
		if paths[i] != paths[0] {
			t.Errorf("Ensure %d: path %s, want %s", i, paths[i], paths[0])
		}
	}
	if got := builds.Load(); got != 1 {
		t.Errorf("built %d times, want once", got)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil || string(data) != "built" {
		t.Errorf("cached file: %q, %v", data, err)
	}

	// No leftover work directories.
	entries, err := os.ReadDir(filepath.Dir(filepath.Dir(paths[0])))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "tool-v1" && e.Name() != "tool-v1.lock" {
			t.Errorf("leftover %s in the cache root", e.Name())
		}
	}
}

// TestEnsureFailedBuild leaves nothing behind, so the next call builds again.
func TestEnsureFailedBuild(t *testing.T) {
	t.Setenv(testcache.EnvRoot, t.TempDir())
	boom := errors.New("boom")
	_, err := testcache.Ensure(t.Context(), "tool-v2", "tool", nil, func(context.Context, string) (string, error) {
		return "", boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Ensure: %v, want %v", err, boom)
	}
	path, err := testcache.Ensure(t.Context(), "tool-v2", "tool", nil, func(_ context.Context, work string) (string, error) {
		p := filepath.Join(work, "tool")
		return p, os.WriteFile(p, nil, 0o755)
	})
	if err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}

func TestGoEnv(t *testing.T) {
	t.Setenv("GOFLAGS", "-mod=vendor -buildvcs=false")
	t.Setenv("GOWORK", "/somewhere/go.work")
	var goflags, gowork []string
	for _, kv := range testcache.GoEnv() {
		switch {
		case len(kv) > 8 && kv[:8] == "GOFLAGS=":
			goflags = append(goflags, kv)
		case len(kv) > 7 && kv[:7] == "GOWORK=":
			gowork = append(gowork, kv)
		}
	}
	if len(goflags) != 1 || goflags[0] != "GOFLAGS=-buildvcs=false" {
		t.Errorf("GOFLAGS entries %q", goflags)
	}
	if len(gowork) != 1 || gowork[0] != "GOWORK=off" {
		t.Errorf("GOWORK entries %q", gowork)
	}
}
