package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

const searchUsage = `usage: otelaudit search [filters] [-json] FILE...

Prints the records of audit logs (plain or .gz, such as audit.log*) that pass
every filter given, in file order: the Psono lines as they are, or with -json
one JSON object per record, keyed by the OpenTelemetry attribute names of the
record's fields (client.address, user.name, http.response.status_code as a
number, audit.success as a boolean, audit.kwarg.<name> for kwargs), with
"timestamp" (the line's time as written) and "event.name" (the event code).
Checkpoints files among the FILEs are skipped.

Exit status 0: records were found; 1: none; 2: usage error or unreadable file.
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
	p := newPrinter(stdout, *asJSON)
	defer p.flush()
	found := 0
	for _, path := range fs.Args() {
		n, err := searchFile(ctx, path, &f, p, stderr)
		found += n
		if err != nil {
			p.flush()
			fmt.Fprintf(stderr, "otelaudit search: %v\n", err)
			return exitUsage
		}
	}
	if found == 0 {
		return exitFailed
	}
	return exitOK
}

// searchFile prints the records of one file that pass f and returns how
// many there were. Lines that are not audit records are reported to stderr.
func searchFile(ctx context.Context, path string, f *filter, p *printer, stderr io.Writer) (int, error) {
	r, err := seal.OpenLog(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); seal.IsCheckpoints(head) {
		return 0, nil
	}
	found, lineNo := 0, 0
	err = seal.ReadLines(br, func(line []byte) error {
		lineNo++
		if lineNo%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		l, err := psono.Parse(string(line))
		if err != nil {
			fmt.Fprintf(stderr, "%s:%d: skipped: %v\n", path, lineNo, err)
			return nil
		}
		if !f.match(l) {
			return nil
		}
		found++
		return p.print(line, l)
	})
	if err != nil {
		return found, fmt.Errorf("%s: %w", path, err)
	}
	return found, nil
}
