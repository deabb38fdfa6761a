// Package instrument provides HTTP middleware that turns every request a
// service serves into one audit record, emitted through the OpenTelemetry
// logs API.
//
// NewHandler wraps a handler with otelhttp (so each request has a span, and
// its record carries the span's trace and span ids) and records, after the
// handler returns: the time, the logger, the client IP (Psono's rule, never
// the raw X-Forwarded-For), the method, the decoded path without its query
// string, success (2xx), the host name, the status code, the event, the user
// and user id when the handler identified one, and the kwargs: every wildcard
// of the matched ServeMux pattern plus those the handler added with AddKwarg.
// Requests that no route claims (404, 405) and handlers that panic (recorded
// as 500) get their record too.
//
// The attribute keys are those of package psono. Query strings, headers other
// than the configured client-IP headers (and of those only an IP address),
// cookies and bodies are never recorded.
package instrument

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
)

// ScopeName is the instrumentation scope of the audit records' logger.
const ScopeName = "github.com/otelaudit/otelaudit/instrument"

// DefaultLogger is the logger of a record whose handler did not call
// SetLogger, unless WithDefaultLogger says otherwise.
const DefaultLogger = "otelaudit.http"

// DefaultMaxValueLength is the longest value, in bytes, that a record holds
// unless WithMaxValueLength says otherwise. A longer value is cut at a UTF-8
// boundary and TruncatedMark is appended.
const DefaultMaxValueLength = 4096

// TruncatedMark ends a value that was cut to the maximum value length.
const TruncatedMark = "...[truncated]"

type config struct {
	lp             log.LoggerProvider
	operation      string
	otelhttpOpts   []otelhttp.Option
	numProxies     int
	trustedHeader  string
	overwriteIP    string
	hostName       string
	defaultLogger  string
	maxValueLength int
	errorLog       func(msg string, args ...any)
	strict         func() error
}

// An Option configures NewHandler.
type Option func(*config)

// WithLoggerProvider sets the LoggerProvider the records are emitted to. The
// default is the global one.
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return func(c *config) { c.lp = lp }
}

// WithOperation sets otelhttp's operation name (the span name). The default
// is "http.server".
func WithOperation(name string) Option {
	return func(c *config) { c.operation = name }
}

// WithOTelHTTPOptions passes options to otelhttp.NewHandler, for example
// otelhttp.WithTracerProvider.
func WithOTelHTTPOptions(opts ...otelhttp.Option) Option {
	return func(c *config) { c.otelhttpOpts = append(c.otelhttpOpts, opts...) }
}

// WithNumProxies says how many reverse proxies stand in front of the service
// (Psono's NUM_PROXIES): the client IP is taken n places from the right end
// of X-Forwarded-For. Without it, or with 0, X-Forwarded-For is ignored and
// the peer address is used.
func WithNumProxies(n int) Option {
	return func(c *config) { c.numProxies = n }
}

// WithTrustedIPHeader names a request header (such as "X-Real-IP") that a
// trusted proxy sets to the client's IP (Psono's TRUSTED_IP_HEADER); when a
// request has it with an IP address, that is the client IP. Only use it when
// every request passes through that proxy.
func WithTrustedIPHeader(name string) Option {
	return func(c *config) { c.trustedHeader = http.CanonicalHeaderKey(name) }
}

// WithTrustedIPHeaderOverwrite names a request header that wins over the one
// of WithTrustedIPHeader (Psono's TRUSTED_IP_HEADER_OVERWRITE): when a request
// has it with an IP address, that is the client IP.
func WithTrustedIPHeaderOverwrite(name string) Option {
	return func(c *config) { c.overwriteIP = http.CanonicalHeaderKey(name) }
}

// WithHostName sets the host name the records carry. The default is FQDN,
// the name Psono writes.
func WithHostName(name string) Option {
	return func(c *config) { c.hostName = name }
}

// WithDefaultLogger sets the logger of records whose handler did not call
// SetLogger. The default is DefaultLogger.
func WithDefaultLogger(name string) Option {
	return func(c *config) { c.defaultLogger = name }
}

// WithMaxValueLength sets the longest value in bytes a record holds (path,
// user, user id, kwarg values, client IP). Longer values are cut and marked
// with TruncatedMark. n below 64 is taken as 64.
func WithMaxValueLength(n int) Option {
	return func(c *config) { c.maxValueLength = max(n, 64) }
}

// WithErrorLog sets the function that reports a handler's panic, with the
// panic value and the stack. The default writes to the standard log package
// through net/http's server error logging style.
func WithErrorLog(f func(msg string, args ...any)) Option {
	return func(c *config) { c.errorLog = f }
}

// WithStrict turns on strict mode, after Vault's rule that nothing is served
// unaudited. While healthy returns an error (the audit log cannot be written)
// every request is refused with 503 before its handler runs, and recorded
// with the event UnavailableEvent. Otherwise the handler's response is held
// in memory until its record is written, and replaced by a 503 when the
// write failed. Records must reach a synchronous exporter.File for the
// write to be confirmed; a record the whitelist or blacklist drops does not
// hold its response back. Streaming responses (Flush, Hijack) are not
// available in strict mode.
func WithStrict(healthy func() error) Option {
	return func(c *config) { c.strict = healthy }
}

// NewHandler returns h wrapped in the audit middleware and in otelhttp.
//
// A record's event is the one the handler set with SetEvent. Without one it
// is derived from the matched ServeMux pattern: the pattern's method and path
// segments in upper case, with characters other than letters and digits as
// '_', and the outcome suffix _SUCCESS for a 2xx status or _ERROR otherwise.
// "GET /datastore/{datastore_id}/" gives GET_DATASTORE_DATASTORE_ID_SUCCESS,
// "/" gives ROOT_SUCCESS, and a request no pattern matched (or a handler that
// is not a ServeMux) gives REQUEST_SUCCESS or REQUEST_ERROR. The method of a
// request is never part of a default event unless the pattern names it, so a
// client cannot invent event codes.
//
// The record's severity is INFO for a 2xx status and WARN otherwise, and it is
// emitted with the request's context, so it carries the request's trace and
// span ids.
func NewHandler(h http.Handler, opts ...Option) http.Handler {
	c := config{
		operation:      "http.server",
		defaultLogger:  DefaultLogger,
		maxValueLength: DefaultMaxValueLength,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.lp == nil {
		c.lp = global.GetLoggerProvider()
	}
	if c.hostName == "" {
		c.hostName = FQDN()
	}
	if c.errorLog == nil {
		c.errorLog = func(msg string, args ...any) {
			fmt.Fprintln(os.Stderr, append([]any{msg}, args...)...)
		}
	}
	a := &auditHandler{
		next:   h,
		cfg:    c,
		logger: c.lp.Logger(ScopeName),
		host:   clip(c.hostName, c.maxValueLength),
	}
	return otelhttp.NewHandler(a, c.operation, c.otelhttpOpts...)
}

type auditHandler struct {
	next     http.Handler
	cfg      config
	logger   log.Logger
	host     string
	patterns sync.Map // pattern string -> *patternInfo
}

func (a *auditHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A fresh record each time: a handler may keep the context past its
	// return, and must never reach into another request's record. The
	// record, the context carrying it and the status-recording writer are
	// one allocation.
	st := new(requestState)
	st.ctx = recordContext{Context: r.Context(), rec: &st.rec}
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
	if p != nil {
		// The client gets a 500 when nothing was sent yet; either way the
		// request failed.
		if status == 0 && p != http.ErrAbortHandler {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
		status = http.StatusInternalServerError
	}
	if status == 0 {
		status = http.StatusOK
	}
	a.emit(r.Context(), r2, rec, status)
	if p == http.ErrAbortHandler {
		panic(p)
	}
}

// requestState is what the middleware keeps for one request.
type requestState struct {
	ctx recordContext
	rec record
	w   statusWriter
}

// recordContext is the request's context with its record added; it stands
// for context.WithValue(parent, recordKey{}, rec) in the same allocation as
// the record.
type recordContext struct {
	context.Context
	rec *record
}

func (c *recordContext) Value(key any) any {
	if key == (recordKey{}) {
		return c.rec
	}
	return c.Context.Value(key)
}

// statusWriter records the status of the response that passes through it:
// the first final (2xx-5xx) or 101 WriteHeader, or 200 at the first Write.
// It offers Flush, Hijack, Push and ReadFrom whatever the writer it wraps
// supports, answering http.ErrNotSupported where that writer lacks one, as
// http.ResponseController does; Unwrap gives ResponseController the
// original writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

// writerOnly hides every method of a writer but Write, so that io.Copy does
// not call ReadFrom again.
type writerOnly struct{ io.Writer }

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK // a flush sends the header
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// call runs the wrapped handler and returns what it panicked with, if it did.
func (a *auditHandler) call(w http.ResponseWriter, r *http.Request) (p any) {
	defer func() {
		p = recover()
		if p != nil && p != http.ErrAbortHandler {
			a.cfg.errorLog("otelaudit: panic serving "+r.Method+" "+r.URL.Path+":", p, "\n"+string(debug.Stack()))
		}
	}()
	a.next.ServeHTTP(w, r)
	return nil
}

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
	ctx, receipt := exporter.NewReceiptContext(r.Context())
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

// emit builds and emits the audit record of a finished request. r is the
// request as the inner handler saw it, after ServeMux set its Pattern.
func (a *auditHandler) emit(ctx context.Context, r *http.Request, rec *record, status int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()

	success := status >= 200 && status < 300
	var info *patternInfo
	if r.Pattern != "" {
		info = a.pattern(r.Pattern)
	}
	event := rec.event
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
	logger := rec.logger
	if logger == "" {
		logger = a.cfg.defaultLogger
	}
	max := a.cfg.maxValueLength

	var buf [24]attribute.KeyValue
	attrs := append(buf[:0],
		attribute.String(string(psono.Logger.Attr), clip(logger, max)),
		attribute.String(string(psono.UserIP.Attr), clip(clientIP(r, a.cfg.overwriteIP, a.cfg.trustedHeader, a.cfg.numProxies), max)),
		attribute.String(string(psono.ReqMethod.Attr), clip(r.Method, max)),
		attribute.String(string(psono.ReqURL.Attr), clip(r.URL.Path, max)),
		attribute.Bool(string(psono.Success.Attr), success),
		attribute.String(string(psono.Hostname.Attr), a.host),
		attribute.Int(string(psono.Status.Attr), status),
	)
	if rec.user != "" || rec.userID != "" {
		attrs = append(attrs,
			attribute.String(string(psono.User.Attr), clip(rec.user, max)),
			attribute.String(string(psono.UserID.Attr), clip(rec.userID, max)))
	}
	// Each kwarg key appears once (the LoggerProvider of otelaudit.New
	// does not de-duplicate keys): a handler's kwarg replaces the route
	// wildcard or the earlier kwarg of the same key.
	kwargs := len(attrs)
	if info != nil {
		for _, name := range info.wildcards {
			attrs = setAttr(attrs, kwargs, info.kwargKeys[name], clip(r.PathValue(name), max))
		}
	}
	for _, k := range rec.kwargs {
		key, ok := attribute.Key(""), false
		if info != nil {
			key, ok = info.kwargKeys[k.name]
		}
		if !ok {
			key = psono.KwargAttr(k.name)
		}
		attrs = setAttr(attrs, kwargs, key, clip(k.value, max))
	}
	if r.Pattern != "" {
		attrs = append(attrs, attribute.String(string(psono.Route), clip(r.Pattern, max)))
	}

	var lr log.Record
	now := time.Now()
	lr.SetTimestamp(now)
	lr.SetObservedTimestamp(now)
	lr.SetSeverity(sev)
	lr.SetSeverityText(sevText)
	lr.SetEventName(clip(event, max))
	lr.AddAttributes(attrs...)
	a.logger.Emit(ctx, lr)
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

// patternInfo is what the middleware derives once from a ServeMux pattern.
type patternInfo struct {
	wildcards []string
	kwargKeys map[string]attribute.Key
	event     string // without the outcome suffix
}

func (a *auditHandler) pattern(pattern string) *patternInfo {
	if v, ok := a.patterns.Load(pattern); ok {
		return v.(*patternInfo)
	}
	info := parsePattern(pattern)
	v, _ := a.patterns.LoadOrStore(pattern, info)
	return v.(*patternInfo)
}

// parsePattern reads the wildcard names and the default event from a
// ServeMux pattern "[METHOD ][HOST]/[PATH]".
func parsePattern(pattern string) *patternInfo {
	info := &patternInfo{kwargKeys: map[string]attribute.Key{}}
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.TrimLeft(path, " \t")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:] // drop the host
	}
	var words []string
	if method != "" {
		words = append(words, method)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "{$}" {
			continue
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			if _, dup := info.kwargKeys[name]; !dup && name != "" {
				info.wildcards = append(info.wildcards, name)
				info.kwargKeys[name] = psono.KwargAttr(safeName(name))
			}
			words = append(words, name)
			continue
		}
		words = append(words, seg)
	}
	if len(words) == 0 || len(words) == 1 && method != "" {
		words = append(words, "ROOT")
	}
	info.event = eventWord(strings.Join(words, "_"))
	return info
}

// eventWord upper-cases s and replaces everything but letters and digits by
// '_', collapsing runs.
func eventWord(s string) string {
	var b strings.Builder
	under := false
	for _, c := range strings.ToUpper(s) {
		if 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteRune(c)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

func defaultEvent(info *patternInfo, success bool) string {
	base := "REQUEST"
	if info != nil && info.event != "" {
		base = info.event
	}
	if success {
		return base + "_SUCCESS"
	}
	return base + "_ERROR"
}

// clip cuts s to at most max bytes, at a UTF-8 boundary, marking the cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(TruncatedMark)
	for cut > 0 && cut > max-len(TruncatedMark)-4 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncatedMark
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
