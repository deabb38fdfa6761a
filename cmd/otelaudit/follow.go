package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lostPolls is how many looks in a row tail -f waits for the file it
// follows to show up among the numbered rotated files once it has left the
// path, before it goes on with the file at the path: a rotation may be under
// way, or the file was renamed another way (logrotate's dateext), compressed
// or removed.
const lostPolls = 4

// A follower reads the file at a path as it grows, and the files that come
// after it at the path as the path is rotated.
type follower struct {
	path   string
	f      *os.File
	fi     os.FileInfo // f's identity
	name   string      // f's name when it was opened, for messages
	lr     *lineReader
	lost   int // looks in a row f was not found since it left the path
	skip   *skipped
	o      *tailOptions
	p      *printer
	ctxErr func() error
}

// follow is tail -f: it prints the last records of path, then every record
// written to it, across rotation, until ctx is done.
func follow(ctx context.Context, path string, o *tailOptions, p *printer, skip *skipped) error {
	f, fi, err := openRegular(path)
	if err != nil {
		return err
	}
	fl := &follower{path: path, f: f, fi: fi, name: path, lr: newLineReader(f, true), skip: skip, o: o, p: p, ctxErr: ctx.Err}
	defer func() { fl.f.Close() }()
	if magic, _ := fl.lr.r.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) || strings.HasSuffix(path, ".gz") {
		return fmt.Errorf("%s is gzip-compressed: a compressed file does not grow, so there is nothing to follow; tail it without -f", path)
	}

	last, err := readLast(ctx, path, fl.lr, o, skip)
	if err != nil {
		return err
	}
	if err := last.print(p); err != nil {
		return err
	}
	t := time.NewTicker(o.poll)
	defer t.Stop()
	for {
		if err := fl.drain(); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		stepped, err := fl.rotate()
		if err != nil {
			return err
		}
		if stepped {
			continue // the next file may have been rotated too
		}
		if err := fl.truncated(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// print prints raw if it is a record that passes the filter.
func (fl *follower) print(raw []byte) error {
	l, _, err := parseRecord(raw)
	if err != nil {
		fl.skip.add(fl.name, fl.lr.n, err)
		return nil
	}
	if !fl.o.filter.match(l) {
		return nil
	}
	return fl.p.print(raw, l)
}

// drain prints the whole lines written to the file so far.
func (fl *follower) drain() error {
	for {
		if err := fl.ctxErr(); err != nil {
			return err
		}
		raw, err := fl.lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fileError(fl.name, err)
		}
		if err := fl.print(raw); err != nil {
			return err
		}
	}
}

// rotate steps to the file that came after the one followed, once the path
// no longer names the one followed: it reads the one followed to its end,
// then opens the next one to read it from its start. It reports whether it
// stepped.
//
// logrotate moves audit.log to audit.log.1, after moving every
// audit.log.K to audit.log.K+1; the service then writes to a new audit.log.
// So the file after the one followed, found at audit.log.K, is at
// audit.log.K-1, or at the path when K is 1: following the numbers, tail -f
// reads every file, however many rotations happened since it last looked.
func (fl *follower) rotate() (bool, error) {
	now, err := os.Stat(fl.path)
	switch {
	case err == nil && os.SameFile(now, fl.fi):
		fl.lost = 0
		return false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	k, err := fl.rotatedNumber()
	if err != nil {
		return false, err
	}
	next := fl.path
	switch {
	case k > 1:
		next = fl.path + "." + strconv.Itoa(k-1)
	case k == 0:
		if fl.lost++; fl.lost < lostPolls {
			return false, nil
		}
	}
	f, fi, err := openRegular(next)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // moved away, the next one not made yet: wait for it
	}
	if err != nil {
		return false, err
	}
	stepped := false
	defer func() {
		if !stepped {
			f.Close()
		}
	}()
	if os.SameFile(fi, fl.fi) {
		return false, nil
	}
	if k > 0 {
		// The one followed must still be where it was found: then next was
		// the file after it when it was opened, not one of a later rotation.
		at, err := os.Stat(fl.path + "." + strconv.Itoa(k))
		if err != nil || !os.SameFile(at, fl.fi) {
			return false, nil // a rotation is under way: look again
		}
	}
	if next == fl.path && fi.Size() == 0 {
		// A new, empty audit.log: the service may still write its last
		// lines to the one followed, until it reopens the path (SIGHUP).
		// Stay with that one until the new file has lines.
		return false, nil
	}
	// Finish the one followed, its last line too, then go on with next.
	if err := fl.drain(); err != nil {
		return false, err
	}
	if raw, ok := fl.lr.rest(); ok {
		if err := fl.print(raw); err != nil {
			return false, err
		}
	}
	fl.f.Close()
	stepped = true
	fl.f, fl.fi, fl.name, fl.lost = f, fi, next, 0
	fl.lr.restart(f)
	return true, nil
}

// rotatedNumber returns K when the file followed is the rotated file
// path.K, or 0.
func (fl *follower) rotatedNumber() (int, error) {
	dir, base := filepath.Split(fl.path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	var nums []int
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok {
			continue
		}
		if k, err := strconv.Atoi(suffix); err == nil && k > 0 && strconv.Itoa(k) == suffix {
			nums = append(nums, k)
		}
	}
	sort.Ints(nums)
	for _, k := range nums {
		if fi, err := os.Stat(fl.path + "." + strconv.Itoa(k)); err == nil && os.SameFile(fi, fl.fi) {
			return k, nil
		}
	}
	return 0, nil
}

// truncated reads the file again from its start when it was cut shorter
// than what was read (logrotate's copytruncate).
func (fl *follower) truncated() error {
	fi, err := fl.f.Stat()
	if err != nil {
		return fileError(fl.name, err)
	}
	if fi.Size() >= fl.lr.off {
		return nil
	}
	if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
		return fileError(fl.name, err)
	}
	fl.lr.restart(fl.f)
	return nil
}
