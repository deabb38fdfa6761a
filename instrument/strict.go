package instrument

import (
	"bytes"
	"errors"
	"fmt"
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
		rec.event = UnavailableEvent
		a.emit(r.Context(), r2, rec, http.StatusServiceUnavailable)
		http.Error(w, "audit log unavailable", http.StatusServiceUnavailable)
		return
	}
	bw := &heldResponse{header: http.Header{}, max: a.cfg.strictMaxResponse, held: &a.held, maxHeld: a.cfg.strictMaxHeld}
	defer bw.release()
	p := a.call(bw, r2)
	status := bw.status
	switch {
	case p != nil:
		status = http.StatusInternalServerError
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

// heldResponse keeps a response in memory until strict mode knows its
// record was written, within its own bound (max) and the bound of every held
// response together (maxHeld, counted in held).
type heldResponse struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	max      int64
	held     *atomic.Int64
	maxHeld  int64
	counted  int64 // what this response added to held
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

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	n := int64(len(b))
	if !h.tooLarge && int64(h.body.Len())+n <= h.max {
		if h.held.Add(n) <= h.maxHeld {
			h.counted += n
			return h.body.Write(b)
		}
		h.held.Add(-n)
	}
	h.tooLarge = true
	h.body.Reset()
	h.release()
	return 0, ErrResponseTooLarge
}

// release gives back what the response counted against the shared bound.
func (h *heldResponse) release() {
	h.held.Add(-h.counted)
	h.counted = 0
}

func (h *heldResponse) sendTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
	_, _ = w.Write(h.body.Bytes())
}
