package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/otelaudit/otelaudit/seal"
)

// A lineReader reads the lines of an audit file one at a time, for search's
// merge and tail's following (seal.ReadLines, which calls a function per
// line, serves neither). Like seal.ReadLines it never holds more than
// seal.MaxLineLength bytes of a line: a longer line (a file of zeros without
// a newline, a sparse file, a gzip bomb) ends the reading with a
// *seal.LineError wrapping seal.ErrLineTooLong, however long it would go on.
type lineReader struct {
	r       *bufio.Reader
	partial []byte // the start of the line being read
	n       int64  // the number of lines returned
	off     int64  // the bytes read (the partial line included)
	follow  bool   // the file may still grow: hold back a last line without its newline
	err     error  // a line too long: the reader is done
}

func newLineReader(r io.Reader, follow bool) *lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &lineReader{r: br, follow: follow}
}

// next returns the next line, without its newline; it is valid until the
// next call. At the end of the file it returns io.EOF; a last line without a
// newline is a line, except with follow, where it is held back until its end
// is written (next reads on when called again).
func (lr *lineReader) next() ([]byte, error) {
	if lr.err != nil {
		return nil, lr.err
	}
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.off += int64(len(chunk))
		if err == nil {
			line := chunk[:len(chunk)-1]
			if len(lr.partial) > 0 {
				lr.partial = append(lr.partial, line...)
				line, lr.partial = lr.partial, lr.partial[:0]
			}
			lr.n++
			if len(line) > seal.MaxLineLength {
				return nil, lr.tooLong(lr.n)
			}
			return line, nil
		}
		if len(lr.partial)+len(chunk) > seal.MaxLineLength {
			return nil, lr.tooLong(lr.n + 1)
		}
		lr.partial = append(lr.partial, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			if !lr.follow {
				if line, ok := lr.rest(); ok {
					return line, nil
				}
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

// rest returns the line without a newline held back at the end, if any: the
// last line of a file that is not written to any more.
func (lr *lineReader) rest() ([]byte, bool) {
	if len(lr.partial) == 0 {
		return nil, false
	}
	line := lr.partial
	lr.partial = lr.partial[:0]
	lr.n++
	return line, true
}

func (lr *lineReader) tooLong(line int64) error {
	lr.partial = nil
	lr.err = &seal.LineError{Line: line, Err: seal.ErrLineTooLong}
	return lr.err
}

// restart makes the reader read r from its start, as a new file.
func (lr *lineReader) restart(r io.Reader) {
	lr.r.Reset(r)
	lr.partial, lr.n, lr.off, lr.err = nil, 0, 0, nil
}

// fileError returns err, met reading the file at path, naming the file and,
// for an error about one line, the line: "audit.log:7: line longer than
// 1 MiB...".
func fileError(path string, err error) error {
	var le *seal.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %w", path, le.Line, le.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
