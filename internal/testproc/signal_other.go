//go:build !unix

package testproc

import "os"

// terminate kills p: without POSIX signals there is no portable way to ask
// a console process to shut down.
func terminate(p *os.Process) error { return p.Kill() }
