// Command otelaudit works with the audit logs otelaudit writes: it makes the
// keys that seal them, verifies sealed logs and searches and follows them,
// checks a settings file as the service reads it, and says its version.
//
// Usage:
//
//	otelaudit keygen [-dir DIR] NAME
//	otelaudit verify -key NAME.pub [-log NAME] [-allow-tail] [-json] FILE...
//	otelaudit search [filters] [-json] FILE...
//	otelaudit tail [-f] [-n N] [filters] [-json] FILE
//	otelaudit export -format ocsf|ecs|json [-time time_utc|time_server] [FILE...]
//	otelaudit gaps [-json] SOURCE...
//	otelaudit config check FILE
//	otelaudit version
//	otelaudit help [COMMAND]
//
// Exit status: 0 success; 1 when verify cannot prove every line, search
// finds nothing, gaps finds a hole or config check finds a setting that
// cannot work; 2 for
// usage errors, files that cannot be read or are not regular files, and an
// interrupted search or tail.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // verify: a problem; search: nothing found; config check: a bad setting
	exitUsage   = 2
	programName = "otelaudit"
)

// A command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands []command

func init() {
	commands = []command{
		{"keygen", "write a new signing key pair", keygenUsage, runKeygen},
		{"verify", "check sealed audit logs against their signed checkpoints", verifyUsage, runVerify},
		{"search", "print the records of audit logs that match filters", searchUsage, runSearch},
		{"tail", "print the last records of an audit log, and follow it with -f", tailUsage, runTail},
		{"export", "print audit logs as OCSF or ECS events or JSON records, one per line", exportUsage, runExport},
		{"gaps", "report the holes and duplicates in what a backend received", gapsUsage, runGaps},
		{"config", "check a settings file as the service reads it: config check FILE", configUsage, runConfig},
		{"version", "print the version of otelaudit", versionUsage, runVersion},
		{"help", "explain a command", "usage: otelaudit help [COMMAND]\n", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C ends the command cleanly; from then on the signals
	// are the default again, so a second one ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stderr)
		return exitUsage
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printOverview(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "otelaudit: unknown command %q\n", args[0])
	printOverview(stderr)
	return exitUsage
}

func printOverview(w io.Writer) {
	fmt.Fprintf(w, "usage: otelaudit COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'otelaudit help COMMAND' for a command's flags.\n")
}

func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, []string{"-h"}, stdout, stdout) // prints the usage
		}
	}
	fmt.Fprintf(stderr, "otelaudit help: unknown command %q\n", args[0])
	return exitUsage
}

// newFlagSet returns the flag set of a command, printing usage and then
// its flags to w.
func newFlagSet(name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(programName+" "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs; it returns the exit status to end with, or
// -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	return -1
}

// usageError prints msg and the command's usage and returns exitUsage.
func usageError(fs *flag.FlagSet, stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.SetOutput(stderr)
	fs.Usage()
	return exitUsage
}
