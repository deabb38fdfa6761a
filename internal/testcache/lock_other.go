//go:build !unix

package testcache

import (
	"context"
	"os/exec"
)

// exclusiveLock reports that lock does not exclude other processes.
const exclusiveLock = false

// lock is a no-op where flock(2) is not available: concurrent builders may
// then both build, but the rename in Ensure still keeps the entry whole.
func lock(context.Context, string, func(string, ...any)) (func(), error) {
	return func() {}, nil
}

// setProcessGroup leaves cmd as it is; cancellation kills only the direct
// child.
func setProcessGroup(*exec.Cmd) {}
