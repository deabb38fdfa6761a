// Package testcache keeps slow-to-build test tools (the example collector,
// VictoriaLogs) in a per-user cache so that only the first test run, or
// .ci/prepare-collector, pays for building them.
//
// Every entry lives in its own directory under [Root]. [Ensure] builds an
// entry at most once: it holds an exclusive lock file while it checks and
// builds, builds into a temporary directory beside the entry and renames the
// result into place, so concurrent test binaries (go test ./... runs packages
// in parallel) and interrupted builds never see a half-written entry.
package testcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvRoot is the environment variable that overrides the cache root.
const EnvRoot = "OTELAUDIT_TEST_CACHE"

// Root returns the cache root: $OTELAUDIT_TEST_CACHE when set, else
// "otelaudit-test" under the user cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux). The directory is created when missing.
func Root() (string, error) {
	dir := os.Getenv(EnvRoot)
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("testcache: locate user cache dir (set %s): %w", EnvRoot, err)
		}
		dir = filepath.Join(base, "otelaudit-test")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("testcache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testcache: create root: %w", err)
	}
	return dir, nil
}

// BuildFunc builds an entry. It is called with a fresh, empty work
// directory that it may use freely, and returns the path of the finished
// file (anywhere inside work).
type BuildFunc func(ctx context.Context, work string) (string, error)

// Ensure returns the path of the cached file entry/file (under [Root]),
// calling build to produce it when it is not there yet. Concurrent callers,
// in this process or others, wait for one another; logf, when not nil,
// receives progress messages (waiting for a lock, building).
func Ensure(ctx context.Context, entry, file string, logf func(format string, args ...any), build BuildFunc) (string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, entry)
	target := filepath.Join(dir, file)
	if isFile(target) {
		return target, nil
	}

	unlock, err := lock(ctx, filepath.Join(root, entry+".lock"), logf)
	if err != nil {
		return "", err
	}
	defer unlock()

	// Another process may have finished the build while we waited.
	if isFile(target) {
		return target, nil
	}
	// Work directories of builds that were killed: whoever made them held
	// this lock, which is ours now.
	if stale, err := filepath.Glob(filepath.Join(root, entry+".build-*")); err == nil && exclusiveLock {
		for _, dir := range stale {
			_ = os.RemoveAll(dir)
		}
	}

	work, err := os.MkdirTemp(root, entry+".build-")
	if err != nil {
		return "", fmt.Errorf("testcache: %w", err)
	}
	defer os.RemoveAll(work)

	start := time.Now()
	built, err := build(ctx, work)
	if err != nil {
		return "", fmt.Errorf("testcache: build %s: %w", entry, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testcache: %w", err)
	}
	if err := os.Rename(built, target); err != nil {
		return "", fmt.Errorf("testcache: install %s: %w", entry, err)
	}
	logf("testcache: built %s in %s", target, time.Since(start).Round(time.Second))
	return target, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// GoEnv returns the environment for a go command that must not be steered by
// the caller's module: workspaces are off, and -mod flags are removed from
// GOFLAGS (go install pkg@version rejects them and the collector build sets
// its own).
func GoEnv() []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "GOWORK="):
			continue
		case strings.HasPrefix(kv, "GOFLAGS="):
			var keep []string
			for _, f := range strings.Fields(strings.TrimPrefix(kv, "GOFLAGS=")) {
				if !strings.HasPrefix(f, "-mod=") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	return append(env, "GOWORK=off")
}

// RunGo runs the go command with args in dir, with [GoEnv] plus extra
// environment entries. Its combined output goes to out (which may be nil)
// and, on failure, is part of the returned error.
func RunGo(ctx context.Context, dir string, extraEnv []string, out io.Writer, args ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("testcache: go command not found: %w", err)
	}
	var buf strings.Builder
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(GoEnv(), extraEnv...)
	w := io.Writer(&buf)
	if out != nil {
		w = io.MultiWriter(&buf, out)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(err, ctxErr)
		}
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(buf.String(), 8000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
