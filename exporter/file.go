// Package exporter provides the OpenTelemetry log exporter that writes audit
// records to audit.log as Psono lines.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// File is an sdklog.Exporter that appends each record to a file as exactly
// one Psono line (see AppendLine).
//
// The file is opened with O_APPEND, so every batch of lines is written with
// whole write calls at the file's end, and lines of other writers are never
// overwritten. File does not drop records: Export returns only after the
// lines were handed to the operating system, or with an error. Use it behind
// sdklog.NewSimpleProcessor (or another synchronous processor), never behind
// the SDK's BatchProcessor, which drops records when its queue is full.
type File struct {
	mu       sync.Mutex
	path     string
	loc      *time.Location
	fileMode os.FileMode
	dirMode  os.FileMode
	f        *os.File
	buf      []byte
	closed   bool
}

var _ sdklog.Exporter = (*File)(nil)

// A FileOption configures a File.
type FileOption func(*File)

// WithLocation sets the zone line times are written in: time.UTC (the
// default, Psono's time_utc) or time.Local (time_server).
func WithLocation(loc *time.Location) FileOption {
	return func(f *File) { f.loc = loc }
}

// WithFileMode sets the permissions audit.log is created with; the default is
// 0600. An existing file keeps its mode.
func WithFileMode(mode os.FileMode) FileOption {
	return func(f *File) { f.fileMode = mode }
}

// WithDirMode sets the permissions a missing folder is created with; the
// default is 0700. Existing folders keep their mode.
func WithDirMode(mode os.FileMode) FileOption {
	return func(f *File) { f.dirMode = mode }
}

// NewFile opens (creating it and its folder when missing) the file at path
// for appending and returns a File writing to it.
func NewFile(path string, opts ...FileOption) (*File, error) {
	f := &File{path: path, loc: time.UTC, fileMode: 0o600, dirMode: 0o700}
	for _, o := range opts {
		o(f)
	}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the path of the file.
func (f *File) Path() string { return f.path }

func (f *File) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), f.dirMode); err != nil {
		return fmt.Errorf("audit log folder: %w", err)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, f.fileMode)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f.f = file
	return nil
}

// Export writes one line per record. It holds the lines of one call together
// and writes them with as few write calls as the operating system allows.
// When a write fails, Export reopens the file once and writes the rest; if
// that fails too it returns an error saying how many records were not
// written.
func (f *File) Export(_ context.Context, records []sdklog.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("audit log: export after shutdown")
	}
	buf := f.buf[:0]
	for i := range records {
		buf = AppendLine(buf, &records[i], f.loc)
	}
	f.buf = buf
	err := f.write(buf)
	if len(f.buf) > 1<<20 {
		f.buf = nil // do not keep a huge buffer after a burst
	}
	if err != nil {
		return fmt.Errorf("audit log %s: %d record(s) not written: %w", f.path, len(records), err)
	}
	return nil
}

// write writes b whole, reopening the file once after a failure.
func (f *File) write(b []byte) error {
	reopened := false
	for len(b) > 0 {
		if f.f == nil {
			if err := f.open(); err != nil {
				return err
			}
		}
		n, err := f.f.Write(b)
		b = b[n:]
		if err == nil {
			continue
		}
		if reopened {
			return err
		}
		reopened = true
		_ = f.f.Close()
		f.f = nil
	}
	return nil
}

// Reopen closes the file and opens the path again, creating the file when it
// is missing. Call it after the file was rotated (moved away), so that later
// lines go to a new file at the path.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("audit log: reopen after shutdown")
	}
	old := f.f
	f.f = nil
	if err := f.open(); err != nil {
		f.f = old
		return err
	}
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// ForceFlush commits the file's contents to stable storage (fsync).
func (f *File) ForceFlush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	if err := f.f.Sync(); err != nil {
		return fmt.Errorf("audit log %s: sync: %w", f.path, err)
	}
	return nil
}

// Shutdown syncs and closes the file. Later exports fail.
func (f *File) Shutdown(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.f == nil {
		return nil
	}
	err := f.f.Sync()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	f.f = nil
	if err != nil {
		return fmt.Errorf("audit log %s: close: %w", f.path, err)
	}
	return nil
}
