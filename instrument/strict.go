package instrument

import (
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"sync/atomic"

	"github.com/otelaudit/otelaudit/receipt"
)

// UnavailableEvent is the event of a request that strict mode refused because
// the audit log could not be written.
const UnavailableEvent = "AUDIT_LOG_UNAVAILABLE_ERROR"

// Default bounds of what strict mode holds in memory (see WithStrictLimits).
const (
	DefaultStrictMaxResponse = 16 << 20
	DefaultStrictMaxHeld     = 256 << 20
)

// ErrResponseTooLarge is returned by a handler's Write in strict mode when
// the response would pass the bound of one held response, or of all of them
// together (see WithStrictLimits). The client then gets 503, and the record
// says so.
var ErrResponseTooLarge = errors.New("otelaudit strict mode: response too large to hold until its audit record is written")

// serveStrict serves a request in strict mode: refused with 503 before its
// handler runs while the audit log is failing, and its response held back
// until its record is written, then replaced by a 503 if the write failed.
func (a *auditHandler) serveStrict(w http.ResponseWriter, r, r2 *http.Request, rec *record) {
	if err := a.cfg.strict(); err != nil {
		// Still try to record the refusal: it is an interaction too, and
		// a write that succeeds again ends the failing state.
		rec.Event = UnavailableEvent
		a.emit(r.Context(), r2, rec, http.StatusServiceUnavailable)
		http.Error(w, "audit log unavailable", http.StatusServiceUnavailable)
		return
	}
	bw := &heldResponse{header: http.Header{}, max: a.cfg.strictMaxResponse, held: &a.held, maxHeld: a.cfg.strictMaxHeld}
	defer bw.release() // once sent
	p := a.call(bw, r2)
	status := bw.status
	switch {
	case p != nil:
		status = http.StatusInternalServerError
		bw.release() // never sent
		bw = nil
	case bw.tooLarge:
		status = http.StatusServiceUnavailable
	case status == 0:
		status = http.StatusOK
	}
	ctx, receipt := receipt.NewContext(r.Context())
	a.emit(ctx, r2, rec, status)
	if _, err := receipt.Written(); err != nil {
		http.Error(w, "audit log unavailable", http.StatusServiceUnavailable)
		return
	}
	if bw == nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	if bw.tooLarge {
		http.Error(w, ErrResponseTooLarge.Error(), http.StatusServiceUnavailable)
		return
	}
	bw.sendTo(w)
}

// Chunk sizes of a held response's body (see heldResponse.grow).
const (
	minHeldChunk = 512
	maxHeldChunk = 1 << 20
)

// heldResponse keeps a response in memory until strict mode knows its
// record was written, within its own bound (max) and the bound of every held
// response together (maxHeld, counted in held). Its body is a list of chunks
// that are never copied or regrown, so the memory it takes is their
// capacity: each chunk's capacity is reserved in held before the chunk is
// allocated, and given back when the response is sent or dropped.
type heldResponse struct {
	header   http.Header
	status   int
	chunks   [][]byte
	size     int64 // bytes written, all held in chunks
	max      int64
	held     *atomic.Int64
	maxHeld  int64
	reserved int64 // the capacity of chunks, counted in held
	tooLarge bool
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if code < 100 || code > 999 {
		// As net/http does: the handler's panic becomes a 500.
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if h.status == 0 && code >= 200 {
		h.status = code
	}
}

// Write holds b, or fails with ErrResponseTooLarge, dropping what the
// response held, when b would pass either bound.
func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	if h.tooLarge || int64(len(b)) > h.max-h.size {
		h.drop()
		return 0, ErrResponseTooLarge
	}
	n := len(b)
	for len(b) > 0 {
		last := len(h.chunks) - 1
		if last < 0 || len(h.chunks[last]) == cap(h.chunks[last]) {
			if !h.grow(len(b)) {
				h.drop()
				return 0, ErrResponseTooLarge
			}
			last++
		}
		c := h.chunks[last]
		k := copy(c[len(c):cap(c)], b)
		h.chunks[last] = c[:len(c)+k]
		b = b[k:]
	}
	h.size += int64(n)
	return n, nil
}

// grow adds a chunk for (the start of) the n bytes of a write that the
// full chunks do not take: as large as all chunks so far, so that the
// capacity doubles as append's does but nothing is copied, and at least n
// and minHeldChunk, rounded up to a power of two (a size the allocator
// gives without rounding); at most maxHeldChunk and what is left of the
// response's bound. It reserves the chunk's capacity in held before
// allocating it, and reports false, allocating nothing, when that would
// pass maxHeld.
func (h *heldResponse) grow(n int) bool {
	size := max(h.reserved, int64(n), minHeldChunk)
	size = 1 << bits.Len64(uint64(size-1))
	size = min(size, maxHeldChunk, h.max-h.reserved)
	for {
		cur := h.held.Load()
		if cur+size > h.maxHeld {
			return false
		}
		if h.held.CompareAndSwap(cur, cur+size) {
			break
		}
	}
	h.reserved += size
	h.chunks = append(h.chunks, make([]byte, 0, size))
	return true
}

// drop marks the response too large and lets go of what it held.
func (h *heldResponse) drop() {
	h.tooLarge = true
	h.release()
}

// release lets go of the body and gives its reservation back to held.
func (h *heldResponse) release() {
	h.chunks, h.size = nil, 0
	h.held.Add(-h.reserved)
	h.reserved = 0
}

func (h *heldResponse) sendTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
	for _, c := range h.chunks {
		if _, err := w.Write(c); err != nil {
			return // the client is gone
		}
	}
}
