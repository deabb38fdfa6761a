package instrument

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/instrument/internal/auditctx"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
)

// Calls records calls that reach a service other than as the HTTP requests
// NewHandler serves, such as gRPC calls: one record per call, built as a
// request's record is built (the same fields and attribute keys, the same
// client-IP rule, the same strict mode) and emitted to the same
// LoggerProvider, so it goes through the same pipeline. Between Start and
// End the setters (SetEvent, SetLogger, SetUser, AddKwarg, AddKwargValue)
// work with the context Start returned, and with every context derived from
// it. Adapters for RPC frameworks (otelauditgrpc) are built on it. Its
// methods are safe for concurrent use.
type Calls struct {
	cfg    config
	logger log.Logger
	host   string
}

// NewCalls returns a Calls configured as NewHandler would be by the same
// options: WithLoggerProvider, WithHostName, WithNumProxies,
// WithTrustedIPHeader, WithTrustedIPHeaderOverwrite, WithDefaultLogger,
// WithMaxValueLength and WithStrict apply; the others (otelhttp's, the error
// log, the strict-mode limits on held responses) are about HTTP and do not.
// So NewCalls(opts...) and NewHandler(h, opts...) record into the same
// audit trail by the same rules.
func NewCalls(opts ...Option) *Calls {
	c := config{
		defaultLogger:  DefaultLogger,
		maxValueLength: DefaultMaxValueLength,
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
	return &Calls{cfg: c, logger: c.lp.Logger(ScopeName), host: clip(c.hostName, c.maxValueLength)}
}

// A Call is the record of one call in progress, from Calls.Start to
// Call.End.
type Call struct {
	calls   *Calls
	parent  context.Context
	ctx     recordContext
	rec     record
	refused bool
	ended   atomic.Bool
}

// CallInfo is what a call's record holds beyond what the setters put in
// it, known when the call ends.
type CallInfo struct {
	// Method is the record's req_method, such as "POST" for a gRPC call
	// (what gRPC sends on the wire).
	Method string
	// Path is the record's req_url, such as the full method of a gRPC
	// call, "/grpc.health.v1.Health/Check".
	Path string
	// Status is the HTTP status the call's outcome stands for; success is
	// true for a 2xx status, as for a request, and the severity is INFO
	// for a 2xx status and WARN otherwise.
	Status int
	// Peer is the address the call came from, "host:port" or "host"; the
	// client IP is taken from it, or from the client-IP headers (below),
	// by Psono's rule, as for a request. A call with neither has no
	// client IP: its line says user_ip=None.
	Peer string
	// Header returns the values of a request header (gRPC: of incoming
	// metadata), given its canonical name ("X-Forwarded-For", or the name
	// of WithTrustedIPHeader or WithTrustedIPHeaderOverwrite). It is only
	// asked for those headers. Nil means the call has no headers.
	Header func(name string) []string
	// Event is the event when no setter named one, outcome suffix
	// included (such as "GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS"). Empty
	// gives REQUEST_SUCCESS or REQUEST_ERROR.
	Event string
	// Logger is the logger when SetLogger named none. Empty gives the
	// logger of WithDefaultLogger.
	Logger string
	// Attributes are added to the OpenTelemetry record after the line's
	// fields (such as rpc.system.name); they are not part of the Psono
	// line. Each key must appear once, and must not be one of the line's.
	Attributes []attribute.KeyValue
}

// Start begins the record of a call served with parent, the call's context
// (which carries its trace and span, if any), and returns the context to
// serve the call with: parent with the record added, for the setters.
//
// In strict mode (WithStrict) Start asks the health check first. When it
// reports an error, Start returns that error, wrapped: the call must then
// not be served. The caller answers it as unavailable and ends it with the
// status of that answer (503); its record carries the event
// UnavailableEvent, whatever a setter said. A record written again ends the
// failing state, as for requests.
//
// Every Call must be ended with End, once.
func (cs *Calls) Start(parent context.Context) (context.Context, *Call, error) {
	if parent == nil {
		parent = context.Background()
	}
	c := &Call{calls: cs, parent: parent}
	c.ctx = recordContext{Context: parent, Rec: &c.rec}
	if cs.cfg.strict != nil {
		if err := cs.cfg.strict(); err != nil {
			c.refused = true
			return &c.ctx, c, fmt.Errorf("otelaudit strict mode: the audit log cannot be written: %w", err)
		}
	}
	return &c.ctx, c, nil
}

// End builds the call's record from info and from what the setters said,
// and emits it with the context given to Start, so that it carries that
// context's trace and span ids. Only the first End of a Call emits; later
// ones return nil.
//
// In strict mode End returns the error of the audit.log write when it
// failed: the call must then fail as unavailable rather than answer as if
// it had been audited (what it already sent, such as the messages of a
// stream, cannot be taken back). It returns nil when the record was
// written, filtered out by the whitelist or blacklist, and always outside
// strict mode.
func (c *Call) End(info CallInfo) error {
	if c.ended.Swap(true) {
		return nil
	}
	cs := c.calls
	ctx := c.parent
	var rcpt *receipt.Receipt
	if cs.cfg.strict != nil {
		ctx, rcpt = receipt.NewContext(ctx)
	}
	if !cs.emit(ctx, &c.rec, info, c.refused) || rcpt == nil {
		return nil
	}
	_, err := rcpt.Written()
	return err
}

// emit builds and emits a call's record; it reports whether the record was
// emitted (the logger was enabled for it).
func (cs *Calls) emit(ctx context.Context, rec *record, info CallInfo, refused bool) bool {
	rec.Mu.Lock()
	defer rec.Mu.Unlock()

	status := info.Status
	success := status >= 200 && status < 300
	event := psono.EventCode(rec.Event)
	switch {
	case refused:
		event = UnavailableEvent
	case event == "":
		event = psono.EventCode(info.Event)
	}
	if event == "" {
		event = defaultEvent(nil, success)
	}
	sev, sevText := log.SeverityInfo, "INFO"
	if !success {
		sev, sevText = log.SeverityWarn, "WARN"
	}
	if !cs.logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: event}) {
		return false
	}
	logger := rec.Logger
	if logger == "" {
		logger = info.Logger
	}
	if logger == "" {
		logger = cs.cfg.defaultLogger
	}
	max := cs.cfg.maxValueLength

	attrs := make([]attribute.KeyValue, 0, 10+len(rec.Params)+len(rec.Kwargs)+len(info.Attributes))
	attrs = append(attrs, psono.Logger.String(clip(logger, max)))
	if ip := cs.clientIP(info); ip != "" { // a call without a peer: user_ip=None
		attrs = append(attrs, psono.UserIP.String(clip(ip, max)))
	}
	attrs = append(attrs,
		psono.ReqMethod.String(clip(info.Method, max)),
		psono.ReqURL.String(clip(info.Path, max)),
		psono.Success.Bool(success),
		psono.Hostname.String(cs.host),
		psono.Status.Int(status),
	)
	attrs = appendUser(attrs, rec, max)
	// The route's parameters (route.Set, which a call needs not) and the
	// kwargs, each key once, as for a request.
	attrs = appendParamsAndKwargs(attrs, len(attrs), rec, rec.Route, max)
	attrs = append(attrs, info.Attributes...)
	emitRecord(ctx, cs.logger, sev, sevText, event, max, attrs)
	return true
}

// clientIP applies the client-IP rule of a request (clientIP) to a call:
// its peer address and the client-IP headers info.Header gives.
func (cs *Calls) clientIP(info CallInfo) string {
	r := http.Request{RemoteAddr: info.Peer}
	if info.Header != nil {
		r.Header = make(http.Header, 3)
		for _, name := range [...]string{cs.cfg.overwriteIP, cs.cfg.trustedHeader, "X-Forwarded-For"} {
			if name != "" {
				if v := info.Header(name); len(v) > 0 {
					r.Header[name] = v
				}
			}
		}
	}
	return clientIP(&r, cs.cfg.overwriteIP, cs.cfg.trustedHeader, cs.cfg.numProxies)
}

// CallEvent returns the default event of a call named name, by the rule
// that derives a route's default event from its template: name in upper
// case, each run of characters other than letters and digits as one '_'
// (none at either end), plus _SUCCESS, or _ERROR when the call failed. A
// name with neither letters nor digits gives REQUEST_SUCCESS or
// REQUEST_ERROR. The gRPC full method "/grpc.health.v1.Health/Check"
// gives GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS.
func CallEvent(name string, success bool) string {
	return defaultEvent(&patternInfo{Event: auditctx.EventWord(name)}, success)
}
