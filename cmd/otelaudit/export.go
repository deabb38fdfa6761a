package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/seal"
	"github.com/otelaudit/otelaudit/siem"
)

const exportUsage = `usage: otelaudit export -format ocsf|ecs|json [-time time_utc|time_server] [FILE...]

Prints every record of audit logs (plain or .gz, such as audit.log*) as one
JSON object per line, for a SIEM's file import, AWS Security Lake or a
backfill:

  -format ocsf  an OCSF 1.8.0 event: Authentication (3002) for LOGIN_* and
                LOGOUT_* events, API Activity (6003) for the others; the
                line itself is raw_data, the kwargs are under unmapped
  -format ecs   an ECS 9.4.0 document (Elastic): the line itself is
                event.original and message, the kwargs are psono.kwarg.*
  -format json  the record keyed by the OpenTelemetry attribute names of its
                fields, as "otelaudit search -json" prints it

Rotated files are read oldest first whatever the order they are given in
(audit.log.2.gz, audit.log.1, then audit.log); other files in the order
given. Without FILE, standard input is read. Checkpoints files among the
FILEs are skipped.

-time says how the lines' times were written, as Psono's LOGGING_AUDIT_TIME:
time_utc (the default) or time_server, this machine's local zone (set TZ to
export another server's logs).

Only lines that are Psono audit records are exported; the others are
counted and the first of them (FILE:LINE) is reported on stderr.

Exit status 0: done; 2: usage error, a file that cannot be read, or
interrupted.
`

// exportStdin is what export reads without FILE.
var exportStdin io.Reader = os.Stdin

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("export", exportUsage, stderr)
	format := fs.String("format", "", "the schema: ocsf, ecs or json")
	timeSetting := fs.String("time", "time_utc", "how the lines' times were written: time_utc or time_server")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	var mapping func(siem.Record) (map[string]any, error)
	switch *format {
	case "ocsf":
		mapping = siem.OCSF
	case "ecs":
		mapping = siem.ECS
	case "json":
	case "":
		return usageError(fs, stderr, "no -format given: want -format ocsf, ecs or json")
	default:
		return usageError(fs, stderr, "-format %q: want ocsf, ecs or json", *format)
	}
	var loc *time.Location
	switch *timeSetting {
	case "time_utc":
		loc = time.UTC
	case "time_server":
		loc = time.Local
	default:
		return usageError(fs, stderr, "-time %q: want time_utc or time_server (Psono's LOGGING_AUDIT_TIME)", *timeSetting)
	}
	e := &exporter{ctx: ctx, mapping: mapping, loc: loc, p: newPrinter(stdout, true)}
	enc := json.NewEncoder(e.p.w)
	enc.SetEscapeHTML(false)
	e.enc = enc

	var err error
	if fs.NArg() == 0 {
		err = e.file("standard input", exportStdin)
	} else {
		for _, path := range rotationOrder(fs.Args()) {
			if err = e.path(path); err != nil {
				break
			}
		}
	}
	if ferr := e.p.flush(); err == nil {
		err = ferr
	}
	e.skip.report(stderr, "export")
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintf(stderr, "otelaudit export: interrupted\n")
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "otelaudit export: %s\n", escaped(err.Error()))
		return exitUsage
	}
	return exitOK
}

// An exporter writes the records of files in one schema.
type exporter struct {
	ctx     context.Context
	mapping func(siem.Record) (map[string]any, error) // nil for json
	loc     *time.Location
	p       *printer
	enc     *json.Encoder
	skip    skipped
}

// path exports the file at path.
func (e *exporter) path(path string) error {
	r, err := seal.OpenLog(path)
	if err != nil {
		return err
	}
	defer r.Close()
	return e.file(path, r)
}

// file exports the lines of r, read from the file named name.
func (e *exporter) file(name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); seal.IsCheckpoints(head) {
		return nil
	}
	var n int64
	err := seal.ReadLines(br, func(raw []byte) error {
		n++
		if n%1024 == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		l, _, err := parseRecord(raw)
		if err != nil {
			e.skip.add(name, n, err)
			return nil
		}
		if e.mapping == nil {
			return e.p.print(raw, l)
		}
		doc, err := e.mapping(siem.Record{Line: l, Raw: string(raw), Location: e.loc})
		if err != nil {
			e.skip.add(name, n, err)
			return nil
		}
		return e.enc.Encode(doc)
	})
	if err != nil {
		if e.ctx.Err() != nil && errors.Is(err, e.ctx.Err()) {
			return err
		}
		return fileError(name, err)
	}
	return e.ctx.Err()
}

// rotationOrder returns paths with the rotated files of each log oldest
// first: for a log given as audit.log (or audit.log.gz), audit.log.N and
// audit.log.N.gz come first by decreasing N, then audit.log-SUFFIX (such as
// logrotate's dateext, audit.log-20261129.gz) in increasing order, then
// audit.log itself. The logs keep the order in which they first appear.
func rotationOrder(paths []string) []string {
	type item struct {
		path  string
		group int   // first appearance of its log
		num   int64 // N of .N; -1 for a dateext or other suffix; -2 for the log itself
		rest  string
	}
	groups := map[string]int{}
	items := make([]item, len(paths))
	for i, p := range paths {
		base, num, rest := rotation(p)
		g, ok := groups[base]
		if !ok {
			g = len(groups)
			groups[base] = g
		}
		items[i] = item{p, g, num, rest}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		switch {
		case a.group != b.group:
			return a.group - b.group
		case a.num != b.num:
			if a.num > b.num {
				return -1
			}
			return 1
		}
		return strings.Compare(a.rest, b.rest)
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.path
	}
	return out
}

// rotation splits a path into its log (without rotation suffix or .gz) and
// its place: the number N of NAME.N[.gz], -1 and the suffix for
// NAME-SUFFIX[.gz], -2 for the log itself.
func rotation(path string) (base string, num int64, rest string) {
	p := strings.TrimSuffix(path, ".gz")
	dir, name := filepath.Split(p)
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if n, err := strconv.ParseInt(name[i+1:], 10, 64); err == nil && n >= 0 {
			return dir + name[:i], n, ""
		}
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 && strings.Contains(name[:i], ".") {
		return dir + name[:i], -1, name[i+1:]
	}
	return p, -2, ""
}
