package instrument

import (
	"bytes"
	"net/http"

	"github.com/otelaudit/otelaudit/receipt"
)

// UnavailableEvent is the event of a request that strict mode refused because
// the audit log could not be written.
const UnavailableEvent = "AUDIT_LOG_UNAVAILABLE_ERROR"

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
	bw := &heldResponse{header: http.Header{}}
	p := a.call(bw, r2)
	status := bw.status
	if p != nil {
		status = http.StatusInternalServerError
		bw = nil
	} else if status == 0 {
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
	bw.sendTo(w)
}

// heldResponse keeps a response in memory until strict mode knows its
// record was written.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 && code >= 200 {
		h.status = code
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
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
