package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/otelaudit/otelaudit/seal"
)

const tailUsage = `usage: otelaudit tail [-f] [-n N] [filters] [-json] FILE

Prints the last N records of the audit log FILE (plain or .gz) that pass the
filters (the same as search's, with the same output and escaping; lines that
are not Psono audit records are counted on stderr, not printed). Only the
last N records are held in memory.

With -f it goes on printing new records as the service writes them,
following the path across rotation, until SIGINT: when the path names
another file (logrotate moved audit.log to audit.log.1 and the service made
a new audit.log), the file followed is read to its end first, then the next
one from its start. Rotated files numbered the logrotate way (audit.log.1
the newest, audit.log.2...) are followed one after another, so no file is
skipped however many rotations happen between two looks, as long as the
files are still there uncompressed; a file renamed another way (dateext) is
followed by the file at the path. A path that is briefly missing is waited
for. -f refuses a .gz FILE: a compressed file does not grow.

Only regular files are read: a FIFO or a device is refused, never waited on.

Exit status 0: done (with -f: stopped by SIGINT); 2: usage error, unreadable
file, a line longer than 1 MiB (named by file and line), or interrupted
without -f.
`

// tailOptions are tail's flags.
type tailOptions struct {
	follow bool
	n      int
	json   bool
	poll   time.Duration
	filter filter
}

func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tail", tailUsage, stderr)
	var o tailOptions
	fs.BoolVar(&o.follow, "f", false, "follow the file as it grows and is rotated, until SIGINT")
	fs.IntVar(&o.n, "n", 10, "print the last `N` matching records first")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per record")
	fs.DurationVar(&o.poll, "poll", 250*time.Millisecond, "how often to look for new lines and rotation with -f")
	o.filter.register(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, stderr, "want exactly one FILE, got %d", fs.NArg())
	}
	if err := o.filter.prepare(); err != nil {
		return usageError(fs, stderr, "%v", err)
	}
	if o.poll <= 0 {
		return usageError(fs, stderr, "-poll must be positive")
	}
	if o.n < 0 {
		return usageError(fs, stderr, "-n must not be negative")
	}
	p := newPrinter(stdout, o.json)
	var skip skipped
	var err error
	if o.follow {
		err = follow(ctx, fs.Arg(0), &o, p, &skip)
	} else {
		err = tail(ctx, fs.Arg(0), &o, p, &skip)
	}
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	skip.report(stderr, "tail")
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil && errors.Is(err, ctx.Err()) && o.follow:
		return exitOK // SIGINT is how tail -f ends
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintf(stderr, "otelaudit tail: interrupted\n")
		return exitUsage
	default:
		fmt.Fprintf(stderr, "otelaudit tail: %s\n", escaped(err.Error()))
		return exitUsage
	}
}

// tail prints the last records of the (plain or gzip) file at path.
func tail(ctx context.Context, path string, o *tailOptions, p *printer, skip *skipped) error {
	r, err := seal.OpenLog(path)
	if err != nil {
		return err
	}
	defer r.Close()
	last, err := readLast(ctx, path, newLineReader(r, false), o, skip)
	if err != nil {
		return err
	}
	return last.print(p)
}

// readLast reads lr to its end and returns the last o.n records that pass
// o.filter.
func readLast(ctx context.Context, path string, lr *lineReader, o *tailOptions, skip *skipped) (*lastRecords, error) {
	last := &lastRecords{n: o.n}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := lr.next()
		if err == io.EOF {
			return last, nil
		}
		if err != nil {
			return nil, fileError(path, err)
		}
		l, _, err := parseRecord(raw)
		if err != nil {
			skip.add(path, lr.n, err)
			continue
		}
		if o.filter.match(l) {
			last.add(raw)
		}
	}
}

// lastRecords keeps copies of the last n lines added, and no more.
type lastRecords struct {
	n    int
	ring [][]byte
	next int // the oldest line once the ring is full
}

func (r *lastRecords) add(raw []byte) {
	if r.n <= 0 {
		return
	}
	if len(r.ring) < r.n {
		r.ring = append(r.ring, append([]byte(nil), raw...))
		return
	}
	r.ring[r.next] = append(r.ring[r.next][:0], raw...)
	r.next = (r.next + 1) % r.n
}

// print prints the lines kept, oldest first.
func (r *lastRecords) print(p *printer) error {
	for i := range r.ring {
		raw := r.ring[(r.next+i)%len(r.ring)]
		l, _, err := parseRecord(raw)
		if err != nil {
			continue // cannot happen: only records are kept
		}
		if err := p.print(raw, l); err != nil {
			return err
		}
	}
	return nil
}
