// Package instrument provides HTTP middleware that turns every request a
// service serves into one audit record, emitted through the OpenTelemetry
// logs API.
//
// NewHandler wraps a handler with otelhttp (so each request has a span, and
// its record carries the span's trace and span ids) and records, after the
// handler returns: the time, the logger, the client IP (Psono's rule, never
// the raw X-Forwarded-For), the method, the decoded path without its query
// string, success (2xx), the host name, the status code, the event, the user
// and user id when the handler identified one, and the kwargs: every
// parameter of the matched route (a ServeMux pattern, or what Routes or a
// router adapter reported with route.Set, of package instrument/route) plus
// those the handler added with AddKwarg. Events that are not requests are recorded with a Recorder.
// Requests that no route claims (404, 405, ServeMux's own redirects) and
// handlers that panic (recorded with the status the client got, see
// NewHandler) get their record too.
//
// The attribute keys are those of package psono. Query strings, headers other
// than the configured client-IP headers (and of those only an IP address),
// cookies and bodies are never recorded.
package instrument

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/psono"
)

// ScopeName is the instrumentation scope of the audit records' logger.
const ScopeName = "github.com/otelaudit/otelaudit/instrument"

// NewHandler returns h wrapped in the audit middleware and in otelhttp.
//
// A record's event is the one the handler set with SetEvent, in upper case
// (see psono.EventCode). Without one it is derived from the request's route: the
// one a router adapter or Routes reported with route.Set, else the pattern of
// the ServeMux h (when h is one) matched: the route's method and path
// segments (parameters by their names) in upper case, with characters other
// than letters and digits as '_', and the outcome suffix _SUCCESS for a 2xx
// status or _ERROR otherwise.
// "GET /datastore/{datastore_id}/" gives GET_DATASTORE_DATASTORE_ID_SUCCESS,
// "/" gives ROOT_SUCCESS, and a request no route matched (or no route was
// reported for) gives REQUEST_SUCCESS or REQUEST_ERROR. So does a redirect
// that ServeMux makes itself, to add a trailing slash ("/datastore/X" to
// "/datastore/X/") or to clean a path: no route's handler ran, so the record
// carries neither a route's event nor its kwargs. The method of a request is
// never part of a default event unless the route names it, so a client
// cannot invent event codes.
//
// A handler that panics is reported to the function of WithErrorLog (with
// the request, the panic value and the stack; not for http.ErrAbortHandler)
// and its record carries the status the client got, with success as that
// status says. When the handler had written nothing, the client gets 500,
// and so does the record. When it had written a status (WriteHeader, or a
// first Write or Flush, which send 200), the client got that status: the
// middleware sends what the handler wrote and then aborts the response as
// net/http does for a panic (it panics with http.ErrAbortHandler), so the
// client has the status line and the body written so far, and sees a body
// cut short of its Content-Length or of its last chunk as cut; a body that
// was complete per its Content-Length is complete. The record carries the
// status written. (A ResponseWriter that cannot flush gets its response
// completed instead, so that the client still gets that status, unless the
// panic was http.ErrAbortHandler, whose abort is kept; a hijacked connection
// is the handler's, and nothing more is written on it.) In strict mode
// nothing of a response has been sent when its handler panics: the client
// gets 500, and so does the record.
//
// The record's severity is INFO for a 2xx status and WARN otherwise, and it is
// emitted with the request's context, so it carries the request's trace and
// span ids. A request that comes through an otelhttp handler already (one
// the service put in front to trace) is not traced a second time: the
// record carries that handler's span, and the request pays for one span
// and one set of HTTP metrics.
func NewHandler(h http.Handler, opts ...Option) http.Handler {
	c := config{
		operation:      "http.server",
		defaultLogger:  DefaultLogger,
		maxValueLength: DefaultMaxValueLength,

		strictMaxResponse: DefaultStrictMaxResponse,
		strictMaxHeld:     DefaultStrictMaxHeld,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.lp == nil {
		c.lp = otel.GetLoggerProvider()
	}
	if c.hostName == "" {
		c.hostName = FQDN()
	}
	if c.errorLog == nil {
		c.errorLog = otel.Handle
	}
	a := &auditHandler{
		next:   h,
		cfg:    c,
		logger: c.lp.Logger(ScopeName),
		host:   clip(c.hostName, c.maxValueLength),
	}
	return tracedHandler{traced: otelhttp.NewHandler(a, c.operation, c.otelhttpOpts...), audit: a}
}

type auditHandler struct {
	next   http.Handler
	cfg    config
	logger log.Logger
	host   string
	held   atomic.Int64 // bytes strict mode holds, of all requests
}

func (a *auditHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A fresh record each time: a handler may keep the context past its
	// return, and must never reach into another request's record. The
	// record, the context carrying it and the status-recording writer are
	// one allocation.
	st := new(requestState)
	st.ctx = recordContext{Context: r.Context(), Rec: &st.rec}
	r2 := r.WithContext(&st.ctx)
	rec := &st.rec
	if a.cfg.strict != nil {
		a.serveStrict(w, r, r2, rec)
		return
	}

	sw := &st.w
	sw.ResponseWriter = w
	p := a.call(sw, r2)
	status := sw.status
	abort := p == http.ErrAbortHandler
	switch {
	case p != nil && status == 0:
		// Nothing was written: the client gets a 500, unless the
		// handler aborted the response or took the connection over.
		if !abort && !sw.hijacked {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
		status = http.StatusInternalServerError
	case p != nil && !sw.hijacked:
		// The handler wrote its status: send it with what was written,
		// then cut the response as net/http does for a panic. Only when
		// the writer cannot flush is the response completed instead, so
		// that the client still gets the recorded status. (A hijacked
		// connection is the handler's: nothing more is written on it.)
		if http.NewResponseController(w).Flush() == nil {
			abort = true
		}
	case status == 0:
		status = http.StatusOK
	}
	a.emit(r.Context(), r2, rec, status)
	if abort {
		panic(http.ErrAbortHandler)
	}
}

// requestState is what the middleware keeps for one request.
type requestState struct {
	ctx recordContext
	rec record
	w   statusWriter
}

// call runs the wrapped handler and returns what it panicked with, if it did.
func (a *auditHandler) call(w http.ResponseWriter, r *http.Request) (p any) {
	defer func() {
		p = recover()
		if p != nil && p != http.ErrAbortHandler {
			a.cfg.errorLog(fmt.Errorf("otelaudit: panic serving %s %q: %v\n%s", r.Method, r.URL.Path, p, debug.Stack()))
		}
	}()
	a.next.ServeHTTP(w, r)
	return nil
}

// emit builds and emits the audit record of a finished request. r is the
// request as the inner handler saw it, after ServeMux set its Pattern.
func (a *auditHandler) emit(ctx context.Context, r *http.Request, rec *record, status int) {
	rec.Mu.Lock()
	defer rec.Mu.Unlock()

	success := status >= 200 && status < 300
	// The route: as the first route.Set (a router adapter) or Routes
	// reported it, else the pattern of the ServeMux wrapped directly.
	info, direct := rec.Route, false
	if info == nil && r.Pattern != "" && !muxRedirected(r) {
		info, direct = a.pattern(r.Pattern), true
	}
	event := psono.EventCode(rec.Event)
	if event == "" {
		event = defaultEvent(info, success)
	}
	sev, sevText := log.SeverityInfo, "INFO"
	if !success {
		sev, sevText = log.SeverityWarn, "WARN"
	}
	if !a.logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: event}) {
		return
	}
	logger := rec.Logger
	if logger == "" {
		logger = a.cfg.defaultLogger
	}
	max := a.cfg.maxValueLength

	var buf [24]attribute.KeyValue
	attrs := append(buf[:0],
		psono.Logger.String(clip(logger, max)),
		psono.UserIP.String(clip(clientIP(r, a.cfg.overwriteIP, a.cfg.trustedHeader, a.cfg.numProxies), max)),
		psono.ReqMethod.String(clip(r.Method, max)),
		psono.ReqURL.String(clip(r.URL.Path, max)),
		psono.Success.Bool(success),
		psono.Hostname.String(a.host),
		psono.Status.Int(status),
	)
	attrs = appendUser(attrs, rec, max)
	kwargs := len(attrs)
	if direct {
		for _, name := range info.Wildcards {
			attrs = setAttr(attrs, kwargs, info.KwargKeys[name], clip(r.PathValue(name), max))
		}
	}
	attrs = appendParamsAndKwargs(attrs, kwargs, rec, info, max)
	if info != nil {
		attrs = append(attrs, psono.Route.String(clip(info.Route, max)))
	}
	emitRecord(ctx, a.logger, sev, sevText, event, max, attrs)
}

// setAttr sets key to the string v in attrs: in place when attrs[from:]
// holds key already, else appended.
func setAttr(attrs []attribute.KeyValue, from int, key attribute.Key, v string) []attribute.KeyValue {
	for i := from; i < len(attrs); i++ {
		if attrs[i].Key == key {
			attrs[i].Value = attribute.StringValue(v)
			return attrs
		}
	}
	return append(attrs, attribute.String(string(key), v))
}
