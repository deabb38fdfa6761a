package exporter

import (
	"bytes"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/psono"
)

// A Sealer is told about every line a File writes, to make the file
// tamper-evident; *seal.Sealer is one. File calls it from the one goroutine
// that writes at a time:
//
//   - Append with exactly the bytes that reached the file, in file order,
//     after each write; it returns the number of the file in the seal chain
//     (tree) and the index of the first line given (first), from 0. Not
//     given is the newline File writes after a fragment the file ends in
//     (see File): the Sealer has counted the fragment as a line already,
//     when it read the file or when File gave it the fragment.
//   - Rotate when File opens a file other than the one it wrote to (after
//     logrotate moved audit.log away and Reopen, or when a write finds that
//     the path names another file), after the old file's last Append and
//     before the new one's first. Not when the same file is opened again.
//   - Close once, in Shutdown, after the last write.
type Sealer interface {
	Append(lines []byte) (tree, first int64)
	Rotate() error
	Close() error
}

// WithSealer has File tell s about every line it writes (see Sealer), and
// number the positions File adds to each record given to OnEmit, once its
// line is written (psono.LogTree and psono.LogIndex), as s does: the tree and
// the leaf index (without a sealer File numbers them itself, see ChainPath;
// no chain file is written). A processor after File (the forwarding queue
// behind processor.Fanout) then sees them. With Buffered durability OnEmit
// returns before the line is written, so the records carry no position. s is closed by Shutdown; its errors go to the error
// log (see WithErrorLog).
func WithSealer(s Sealer) FileOption {
	return func(c *fileConfig) { c.sealer = s }
}

// A segment is a run of lines of one write that one Sealer.Append placed in
// the seal chain: lines line to line+n-1 of the write are the leaves from
// first on of tree.
type segment struct {
	line, n     int
	tree, first int64
}

// position returns the tree and leaf index of line k of the batch, if it was
// written.
func (b *batch) position(k int) (tree, index int64, ok bool) {
	for _, s := range b.segs {
		if k >= s.line && k < s.line+s.n {
			return s.tree, s.first + int64(k-s.line), true
		}
	}
	return 0, 0, false
}

// place remembers where lines, whole lines written to the file, went for the
// records of the batch, and with a sealer tells it about them; written
// counts the lines of the batch before them. Without a sealer they are the
// next lines of the open file's count (see ChainPath). The caller is the
// writer.
func (f *File) place(lines []byte, written int) int {
	if len(lines) == 0 {
		return written
	}
	n := bytes.Count(lines, []byte{'\n'})
	var tree, first int64
	if f.sealer != nil {
		tree, first = f.sealer.Append(lines)
	} else {
		tree, first = f.fileNo, f.lines
		f.lines += int64(n)
	}
	f.segs = append(f.segs, segment{line: written, n: n, tree: tree, first: first})
	return written + n
}

// placeFragment counts the start of a line that a failed write left in the
// file and that could not be cut off: it stays a line of the file (the next
// write to the file begins with a newline, or the file ends there). A sealer
// is told, since verification must find it among the sealed lines.
func (f *File) placeFragment(frag []byte) {
	if f.sealer == nil {
		f.lines++
		return
	}
	line := make([]byte, len(frag)+1)
	copy(line, frag)
	line[len(frag)] = '\n'
	f.sealer.Append(line)
}

// rotated tells the sealer that the file just opened is not the one written
// to before; f.mu is held, or the caller is the writer.
func (f *File) rotated() {
	if err := f.sealer.Rotate(); err != nil {
		f.errorLog(err)
	}
}

// addPosition adds the position of r's line to r.
func addPosition(r *sdklog.Record, tree, index int64) {
	r.AddAttributes(psono.LogTree.Int64(tree), psono.LogIndex.Int64(index))
}
