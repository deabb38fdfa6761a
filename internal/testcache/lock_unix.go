//go:build unix

package testcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// exclusiveLock reports that lock excludes other processes.
const exclusiveLock = true

// lock takes an exclusive flock(2) on path, polling until it is free or ctx
// ends. The lock belongs to the open file, so it also goes away when the
// process dies: a crashed build never leaves a stale lock behind.
func lock(ctx context.Context, path string, logf func(string, ...any)) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testcache: open lock: %w", err)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("testcache: lock %s: %w", path, err)
		}
		if !waiting {
			logf("testcache: waiting for %s (another process is building)", path)
			waiting = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("testcache: waiting for lock %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// setProcessGroup makes cmd the leader of a new process group and makes
// context cancellation kill the whole group: "go run" starts the builder,
// which starts further go commands, and none of them may outlive a cancelled
// build.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
