package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

const searchUsage = `usage: otelaudit search [filters] [-json] FILE...

Prints the records of audit logs (plain or .gz, such as audit.log*) that pass
every filter given, in time order across the files (the files are merged by
the records' times; records of the same time keep the order of the FILEs):
the Psono lines as they are, or with -json one JSON object per record, keyed
by the OpenTelemetry attribute names of the record's fields (client.address,
user.name, http.response.status_code as a number, audit.success as a
boolean, audit.kwarg.<name> for kwargs), with "timestamp" (the line's time as
written) and "event.name" (the event code). Checkpoints files among the
FILEs are skipped.

Only lines that are Psono audit records count: a time
(2026-11-29T16:00:00.000000), then logger, user_ip, req_method, req_url,
success, hostname, status and event, then user, user_id and kwarg_<name>
when present. Other lines are not printed; their number and the first of
them (FILE:LINE) are reported on stderr. Control characters, escape
sequences and invalid UTF-8 are printed escaped (\x1b, \u009b, \xff), never
raw. Only regular files are read (a FIFO or a device is refused, never
waited on); a line longer than 1 MiB is an error naming the file and line.

Exit status 0: records were found; 1: none; 2: usage error, unreadable file
or interrupted.
`

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("search", searchUsage, stderr)
	var f filter
	f.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per record")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(fs, stderr, "no FILE given")
	}
	if err := f.prepare(); err != nil {
		return usageError(fs, stderr, "%v", err)
	}
	var srcs []*source
	defer func() {
		for _, s := range srcs {
			s.r.Close()
		}
	}()
	for i, path := range fs.Args() {
		s, err := openSource(path, i)
		if err != nil {
			fmt.Fprintf(stderr, "otelaudit search: %s\n", escaped(err.Error()))
			return exitUsage
		}
		if s != nil {
			srcs = append(srcs, s)
		}
	}
	p := newPrinter(stdout, *asJSON)
	var skip skipped
	found, err := merge(ctx, srcs, &f, p, &skip)
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	skip.report(stderr, "search")
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintf(stderr, "otelaudit search: interrupted\n")
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "otelaudit search: %s\n", escaped(err.Error()))
		return exitUsage
	case found == 0:
		return exitFailed
	}
	return exitOK
}
