package main

import (
	"bufio"
	"container/heap"
	"context"
	"io"
	"time"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// search prints the records of all its files in the order of their times:
// audit.log* names the newest file first, and the files of several hosts
// interleave. Each file is read once, one record at a time (a merge, not a
// sort: memory does not grow with the files), on the assumption that a file
// holds its records in the order of their times, as the service writes them.
// Records of the same time keep the order of the files given, then of the
// lines.

// A source is one file of search, read one record at a time.
type source struct {
	path string
	arg  int // the position among the FILEs
	r    io.Closer
	lr   *lineReader
	raw  []byte // the current record; valid until the next advance
	line psono.Line
	t    time.Time
}

// openSource opens the file at path; it returns nil for a checkpoints file.
func openSource(path string, arg int) (*source, error) {
	r, err := seal.OpenLog(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); seal.IsCheckpoints(head) {
		r.Close()
		return nil, nil
	}
	return &source{path: path, arg: arg, r: r, lr: newLineReader(br, false)}, nil
}

// advance reads on to the next record that passes f, and reports whether
// there is one.
func (s *source) advance(ctx context.Context, f *filter, skip *skipped) (bool, error) {
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		raw, err := s.lr.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fileError(s.path, err)
		}
		l, t, err := parseRecord(raw)
		if err != nil {
			skip.add(s.path, s.lr.n, err)
			continue
		}
		if !f.match(l) {
			continue
		}
		s.raw, s.line, s.t = raw, l, t
		return true, nil
	}
}

// merge prints the records of srcs that pass f in time order and returns
// how many it printed.
func merge(ctx context.Context, srcs []*source, f *filter, p *printer, skip *skipped) (int, error) {
	var h sourceHeap
	for _, s := range srcs {
		ok, err := s.advance(ctx, f, skip)
		if err != nil {
			return 0, err
		}
		if ok {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	found := 0
	for len(h) > 0 {
		s := h[0]
		if err := p.print(s.raw, s.line); err != nil {
			return found, err
		}
		found++
		ok, err := s.advance(ctx, f, skip)
		if err != nil {
			return found, err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return found, nil
}

// sourceHeap orders sources by the time of their current record, then by
// their position among the FILEs.
type sourceHeap []*source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].arg < h[j].arg
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
