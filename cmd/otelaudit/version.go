package main

import (
	"context"
	"fmt"
	"io"

	otelauditlib "github.com/otelaudit/otelaudit" // not otelaudit: main_test.go has a func of that name
)

const versionUsage = `usage: otelaudit version

Prints the version of otelaudit this command was built from, as
runtime/debug.ReadBuildInfo gives it: the module's version ("(devel)" when
built from a checkout without version control stamping, else the version go
build derives from the checkout, such as
v0.0.0-20261204215103-d35d4e97da5e+dirty), then vcs.revision=... and
vcs.modified=... when go build stamped them. A service's startup summary
(otelaudit.Summary, "otelaudit config check") shows the same version.
`

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", versionUsage, stderr)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(fs, stderr, "want no arguments, got %d", fs.NArg())
	}
	fmt.Fprintf(stdout, "%s %s\n", programName, otelauditlib.Version())
	return exitOK
}
