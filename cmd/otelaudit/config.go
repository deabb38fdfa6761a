package main

import (
	"context"
	"fmt"
	"io"

	otelauditlib "github.com/otelaudit/otelaudit" // not otelaudit: main_test.go has a func of that name
	"github.com/otelaudit/otelaudit/config"
)

const configUsage = `usage: otelaudit config check FILE

Checks the settings file FILE (settings.yaml, or settings.toml: a name
ending in .toml is read as TOML) exactly as the service reads it at
startup: config.Load, with the PSONO_<KEY> variables of the environment
overriding single keys, then the checks otelaudit.Summary makes before
anything is opened: the key file of LOGGING_AUDIT_SEAL_KEY must hold a
private key, kept private in strict mode, and the OTLP protocol of the
OTEL_EXPORTER_OTLP_* environment must be one otelaudit supports.

When every setting can work as written, it prints the line the service
prints at startup, what is on (otelaudit.Summary), for example

  audit=on settings=settings.yaml folder=/var/log/psono durability=write strict=off sealing=psono-audit-prod+1a2b3c4d log_name=web-1/var/log/psono/audit.log forwarding=off whitelist=0 blacklist=2 version=(devel)

and exits 0. Otherwise it prints the first problem, naming the file, the
line and the setting (settings.yaml:3: LOGGING_AUDIT_TIME: ...), and exits
1. It never opens or creates audit.log, its folder or its checkpoints; it
reads the seal key file. Run it as the service's user, in the service's
environment, to check what the service will find.

Exit status 2: usage error, or a FILE that cannot be read or is not a
regular file.
`

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", configUsage, stderr)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(fs, stderr, "want a subcommand: check FILE")
	}
	if fs.Arg(0) != "check" {
		return usageError(fs, stderr, "unknown subcommand %q; want check FILE", escaped(fs.Arg(0)))
	}
	return runConfigCheck(ctx, fs.Args()[1:], stdout, stderr)
}

func runConfigCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config check", configUsage, stderr)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, stderr, "want exactly one FILE, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	// Refused before config.Load opens it: a FIFO would block it.
	f, _, err := openRegular(path)
	if err != nil {
		fmt.Fprintf(stderr, "otelaudit config check: %s\n", escaped(err.Error()))
		return exitUsage
	}
	f.Close()
	s, err := config.Load(path)
	if err == nil {
		var summary string
		if summary, err = otelauditlib.Summary(s); err == nil {
			fmt.Fprintln(stdout, escaped(summary))
			return exitOK
		}
	}
	fmt.Fprintln(stderr, escaped(err.Error()))
	return exitFailed
}
