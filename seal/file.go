package seal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

// OpenLog opens an audit log (or checkpoints file) for reading, plain or
// gzip-compressed as logrotate's compress option leaves it: a gzip file is
// recognised by its content, whatever its name, and every gzip member is
// read (a member appended to a closed .gz file is read, not hidden).
//
// Only a regular file is opened: a FIFO, a device or a folder is refused at
// once, never waited on (the open does not block).
func OpenLog(path string) (io.ReadCloser, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		return &readCloser{zr, func() error { zr.Close(); return f.Close() }}, nil
	}
	return &readCloser{br, f.Close}, nil
}

// openRegular opens path for reading if it is a regular file.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s); only audit logs and checkpoints files are read", path, fi.Mode().Type())
	}
	return f, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// MaxLineLength is the longest line, in bytes without its newline, that
// ReadLines hands over. otelaudit's own lines are far shorter (every value
// is clipped, see instrument.DefaultMaxValueLength); a longer one is damage
// or an attack, such as a file of zeros without a newline.
const MaxLineLength = 1 << 20

// ErrLineTooLong is the error (wrapped in a *LineError) of ReadLines for a
// line longer than MaxLineLength.
var ErrLineTooLong = errors.New("line longer than 1 MiB: not an audit log line")

// A LineError is an error about one line of a file, numbered from 1.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadLines calls fn with each line of r, without its newline. A last line
// without a newline is a line too. The slice is only valid during the call.
// A line longer than MaxLineLength stops it with a *LineError wrapping
// ErrLineTooLong, before the line is held in memory whole.
func ReadLines(r io.Reader, fn func(line []byte) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var (
		long []byte
		n    int64
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > MaxLineLength {
				return &LineError{Line: n + 1, Err: ErrLineTooLong}
			}
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = long[:0:0]
		}
		if len(line) > 0 {
			n++
			line = bytes.TrimSuffix(line, []byte("\n"))
			if len(line) > MaxLineLength {
				return &LineError{Line: n, Err: ErrLineTooLong}
			}
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var leafPrefix = []byte{0} // RFC 6962's prefix of a leaf

// leafHasher computes tlog.RecordHash without allocating.
type leafHasher struct {
	h   hash.Hash
	sum []byte
}

func newLeafHasher() *leafHasher {
	return &leafHasher{h: sha256.New(), sum: make([]byte, 0, sha256.Size)}
}

// hash returns tlog.RecordHash(line): SHA-256(0x00 || line), the line
// without its newline.
func (l *leafHasher) hash(line []byte) tlog.Hash {
	l.h.Reset()
	l.h.Write(leafPrefix)
	l.h.Write(line)
	l.sum = l.h.Sum(l.sum[:0])
	return tlog.Hash(l.sum)
}

// fileHashes is what lineHashes reads from a file.
type fileHashes struct {
	hashes []tlog.Hash // one per line
	torn   bool        // the last line has no newline
}

// lineHashes returns the leaf hash of every line of the (plain or gzip)
// file at path. It hashes while it reads, so a line of any length costs no
// memory.
func lineHashes(path string) ([]tlog.Hash, error) {
	fh, err := readHashes(path)
	return fh.hashes, err
}

// readHashes is lineHashes, also telling whether the last line is torn.
func readHashes(path string) (fileHashes, error) {
	var fh fileHashes
	r, err := OpenLog(path)
	if err != nil {
		return fh, err
	}
	defer r.Close()
	br, ok := r.(*readCloser).Reader.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	h := sha256.New()
	var sum []byte
	open := false // a line is being hashed
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if !open {
				h.Reset()
				h.Write(leafPrefix)
				open = true
			}
			if chunk[len(chunk)-1] == '\n' {
				h.Write(chunk[:len(chunk)-1])
				sum = h.Sum(sum[:0])
				fh.hashes = append(fh.hashes, tlog.Hash(sum))
				open = false
			} else {
				h.Write(chunk)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fh, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if open {
		sum = h.Sum(sum[:0])
		fh.hashes = append(fh.hashes, tlog.Hash(sum))
		fh.torn = true
	}
	return fh, nil
}

// fileIDAt returns the identity of the file at path, "" when there is none
// or it cannot be told.
func fileIDAt(path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return ""
	}
	return fileIDOf(fi)
}
