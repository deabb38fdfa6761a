package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

const tailUsage = `usage: otelaudit tail [-f] [-n N] [filters] [-json] FILE

Prints the last N records of the audit log FILE that pass the filters (the
same as search's, with the same output), and with -f goes on printing new
ones as the service writes them, following the path across rotation: when
logrotate moves the file away, what was still written to it is printed and
the new file at the path is read from its start. SIGINT stops it.
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
	p := newPrinter(stdout, o.json)
	defer p.flush()
	if err := tail(ctx, fs.Arg(0), &o, p); err != nil {
		p.flush()
		fmt.Fprintf(stderr, "otelaudit tail: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// follower reads the lines of a file that keeps growing.
type follower struct {
	path    string
	f       *os.File
	r       *bufio.Reader
	partial []byte // the start of a line whose end is not written yet
	off     int64
}

func (fl *follower) open() error {
	f, err := os.Open(fl.path)
	if err != nil {
		return err
	}
	fl.f, fl.r, fl.partial, fl.off = f, bufio.NewReaderSize(f, 64<<10), nil, 0
	return nil
}

// lines calls fn with each whole line available now.
func (fl *follower) lines(fn func(line []byte) error) error {
	for {
		chunk, err := fl.r.ReadSlice('\n')
		fl.off += int64(len(chunk))
		if len(chunk) > 0 {
			if chunk[len(chunk)-1] != '\n' || len(fl.partial) > 0 {
				fl.partial = append(fl.partial, chunk...)
				chunk = fl.partial
			}
			if chunk[len(chunk)-1] == '\n' {
				line := bytes.TrimSuffix(chunk, []byte("\n"))
				fl.partial = fl.partial[:0]
				if ferr := fn(line); ferr != nil {
					return ferr
				}
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

// tail prints the last records of path and, with o.follow, follows it.
func tail(ctx context.Context, path string, o *tailOptions, p *printer) error {
	fl := &follower{path: path}
	if err := fl.open(); err != nil {
		return err
	}
	defer func() { fl.f.Close() }()

	type rec struct {
		raw  []byte
		line psono.Line
	}
	var last []rec // a ring of the last o.n matches
	keep := func(line []byte) error {
		if o.n <= 0 {
			return nil
		}
		l, err := psono.Parse(string(line))
		if err != nil || !o.filter.match(l) {
			return nil
		}
		if len(last) == o.n {
			copy(last, last[1:])
			last = last[:o.n-1]
		}
		last = append(last, rec{append([]byte(nil), line...), l})
		return nil
	}
	if err := fl.lines(keep); err != nil {
		return err
	}
	for _, r := range last {
		p.print(r.raw, r.line)
	}
	if err := p.flush(); err != nil || !o.follow {
		return err
	}
	emit := func(line []byte) error {
		l, err := psono.Parse(string(line))
		if err != nil || !o.filter.match(l) {
			return nil
		}
		return p.print(line, l)
	}
	t := time.NewTicker(o.poll)
	defer t.Stop()
	for {
		if err := fl.lines(emit); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := fl.f.Stat()
		if err != nil {
			return err
		}
		now, err := os.Stat(path)
		switch {
		case err != nil && errors.Is(err, os.ErrNotExist):
			// Moved away, not yet replaced: keep reading the old file.
		case err != nil:
			return err
		case !os.SameFile(cur, now):
			// Rotated: finish the old file, then read the new one from its start.
			if err := fl.lines(emit); err != nil {
				return err
			}
			fl.f.Close()
			if err := fl.open(); err != nil {
				return err
			}
		case now.Size() < fl.off:
			// Truncated in place (copytruncate): read again from the start.
			if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			fl.r.Reset(fl.f)
			fl.off, fl.partial = 0, nil
		}
	}
}
