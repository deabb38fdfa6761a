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
// recognised by its content, whatever its name.
func OpenLog(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
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

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// ReadLines calls fn with each line of r, without its newline. A last line
// without a newline is a line too. The slice is only valid during the call.
func ReadLines(r io.Reader, fn func(line []byte) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if len(line) > 0 {
			if ferr := fn(bytes.TrimSuffix(line, []byte("\n"))); ferr != nil {
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

// lineHashes returns the leaf hash of every line of the (plain or gzip)
// file at path.
func lineHashes(path string) ([]tlog.Hash, error) {
	r, err := OpenLog(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var hashes []tlog.Hash
	lh := newLeafHasher()
	err = ReadLines(r, func(line []byte) error {
		hashes = append(hashes, lh.hash(line))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return hashes, nil
}
