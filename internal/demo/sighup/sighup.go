// Package sighup catches SIGHUP from the first moments of the process, for
// a program that reopens its log on SIGHUP (logrotate's postrotate signal)
// and must never be ended by one.
//
// The default action of SIGHUP ends a process, and a Go program keeps it
// until os/signal is asked for the signal. A signal.Notify at the top of
// main comes too late: every package is initialized before main runs, and
// the OpenTelemetry SDK, gRPC and protobuf take milliseconds to do so, during
// which a SIGHUP (a logrotate run that finds the service just restarted)
// ends the process. This package asks for SIGHUP in its init, which runs as
// soon as os/signal is initialized, before any of those: it imports nothing
// else but the standard library's os, os/signal and syscall, so that nothing
// of the program it is part of is initialized before it (Go initializes a
// package after its imports, and the ready packages in the order of their
// import paths). Import it, for its effect, from the main package or from a
// package main imports.
//
// What is left is the start of the process before any package is
// initialized (loading and starting the Go runtime), where no Go program can
// catch a signal.
//
// The signal stays caught for the life of the process, also after the
// program stopped reading its own channel, while it shuts down. Caught
// tells whether one arrived before the program read its own channel.
package sighup

import (
	"os"
	"os/signal"
	"syscall"
)

// early receives the SIGHUPs from the start of the process on; it is never
// read but by Caught, and signal delivery drops a signal for it when it is
// full.
var early = make(chan os.Signal, 1)

func init() {
	signal.Notify(early, syscall.SIGHUP)
}

// Caught reports whether a SIGHUP arrived since the process started, or
// since the last call that reported one. Call it after the program's own
// signal.Notify for SIGHUP, and answer a true as if that channel had
// received it: a SIGHUP before that call is caught here only.
func Caught() bool {
	select {
	case <-early:
		return true
	default:
		return false
	}
}
