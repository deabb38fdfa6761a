package main

// The peer modes' handlers: one small JSON endpoint, and around it either
// nothing (bare), otelhttp alone, the hand-made slog line, the standard
// OpenTelemetry logs pipeline, or otelaudit. They run in the peer server
// process (serve.go); auditload itself only names them.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
)

// The peer modes, in the order of the report. The +otlp ones exist only
// with -otlp-endpoint.
const (
	modeBare           = "bare"
	modeOTelHTTP       = "otelhttp"
	modeSlog           = "slog"
	modeOTelStd        = "otelstd"
	modeOTelStdOTLP    = "otelstd+otlp"
	modeOTelAudit      = "otelaudit"
	modeOTelAuditOTLP  = "otelaudit+otlp"
	modeOTelAuditOTLPM = "otelaudit+otlp-memory"
)

// peerChoices are the names -peer accepts (besides "all").
var peerChoices = []string{modeSlog, modeOTelStd, modeOTelHTTP, modeOTelAudit}

// The files the peer modes write their records to, in the server's folder.
const (
	slogFile      = "slog.log"
	stdoutlogFile = "stdoutlog.jsonl"
	auditLogDir   = "audit-log" // audit.log is in it
)

// recordFile returns the file mode writes one line per request to, relative
// to the server's folder, and how the report names it; "" when the mode
// writes none.
func recordFile(mode string) (path, name string) {
	switch mode {
	case modeSlog:
		return slogFile, "the slog file"
	case modeOTelStd, modeOTelStdOTLP:
		return stdoutlogFile, "the stdoutlog file"
	case modeOTelAudit, modeOTelAuditOTLP, modeOTelAuditOTLPM:
		return filepath.Join(auditLogDir, "audit.log"), "audit.log"
	}
	return "", ""
}

// peerPath is the request of the peer load: one datastore, by its id.
const peerPath = "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"

// peerToken is the token the peer load's clients send; peerUsers maps it to
// its user, as a service's authentication would.
const peerToken = "3f1c9a6e5b7d4e2f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"

// peerUser is the authenticated user of a request.
type peerUser struct{ name, id string }

var peerUsers = map[string]peerUser{
	peerToken: {"demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20"},
}

// peerLogger is the logger field of the endpoint's records.
const peerLogger = "restapi.views.datastore"

// identifyFunc hands the request's user and event to whatever records the
// request; nil when nothing does.
type identifyFunc func(ctx context.Context, u peerUser, event string)

// endpoint returns the peer endpoint on a ServeMux: GET
// /datastore/{datastore_id}/ answers a JSON document of about 100 bytes to
// a request whose "Authorization: Token ..." header names a user, and 401
// otherwise. identify (when not nil) learns the user and the event.
func endpoint(identify identifyFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Token ")
		u, ok := peerUsers[tok]
		if !ok {
			if identify != nil {
				identify(r.Context(), peerUser{}, "READ_DATASTORE_ERROR")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"Invalid token or not yet activated."}`))
			return
		}
		if identify != nil {
			identify(r.Context(), u, "READ_DATASTORE_SUCCESS")
		}
		body := make([]byte, 0, 128)
		body = append(body, `{"datastore_id":"`...)
		body = append(body, r.PathValue("datastore_id")...)
		body = append(body, `","type":"password","description":"default","is_default":true}`...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return mux
}

// peerHandler builds mode's handler, with its files in dir. shutdown
// flushes and closes its pipeline; call it after the HTTP server has shut
// down.
func peerHandler(mode, dir, durability string) (h http.Handler, shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	switch mode {
	case modeBare:
		return endpoint(nil), noop, nil
	case modeOTelHTTP:
		tp := neverSampleTP()
		return otelhttp.NewHandler(endpoint(nil), "http.server", otelhttp.WithTracerProvider(tp)), tp.Shutdown, nil
	case modeSlog:
		return slogPeer(dir)
	case modeOTelStd, modeOTelStdOTLP:
		return otelStdPeer(dir, mode == modeOTelStdOTLP)
	case modeOTelAudit, modeOTelAuditOTLP, modeOTelAuditOTLPM:
		return otelAuditPeer(dir, durability, mode == modeOTelAuditOTLPM)
	}
	return nil, nil, fmt.Errorf("unknown peer mode %q", mode)
}

// neverSampleTP is the tracer provider otelaudit gives otelhttp by default
// (see otelaudit.WithTracerProvider): the SDK's, sampling nothing, so each
// request has valid ids and no span is recorded.
func neverSampleTP() *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
}

// requestState is what the hand-made middlewares (slog, otelstd) keep of a
// request: the status its handler wrote and what the handler said through
// identify. One allocation per request.
type requestState struct {
	w             statusWriter
	logger, event string
	user, userID  string
}

// stateKey is the context key of a request's *requestState.
type stateKey struct{}

// identifyState is the identifyFunc of the hand-made middlewares.
func identifyState(ctx context.Context, u peerUser, event string) {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		st.logger, st.event, st.user, st.userID = peerLogger, event, u.name, u.id
	}
}

// statusWriter is a ResponseWriter that remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader remembers the first status and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on; a first Write sends 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveRecorded runs next with a fresh requestState in the request's
// context and returns the state and the request next saw (whose PathValue
// the ServeMux has filled in).
func serveRecorded(next http.Handler, w http.ResponseWriter, r *http.Request) (*requestState, *http.Request) {
	st := &requestState{w: statusWriter{ResponseWriter: w}}
	r2 := r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	next.ServeHTTP(&st.w, r2)
	if st.w.status == 0 {
		st.w.status = http.StatusOK
	}
	if st.logger == "" {
		st.logger = instrument.DefaultLogger
	}
	if st.event == "" {
		st.event = "REQUEST_SUCCESS"
		if st.w.status/100 != 2 {
			st.event = "REQUEST_ERROR"
		}
	}
	return st, r2
}

// clientIP is the request's peer address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// slogAudit is the hand-made audit line: no otelhttp, a status-recording
// writer and one slog JSON line per request with the audit line's fields.
type slogAudit struct {
	next http.Handler
	log  *slog.Logger
	host string
}

// slogPeer returns the slog mode: its lines go to dir/slog.log, opened
// O_APPEND and unbuffered (slog's JSONHandler writes each line with one
// write).
func slogPeer(dir string) (http.Handler, func(context.Context) error, error) {
	f, err := os.OpenFile(filepath.Join(dir, slogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	h := &slogAudit{next: endpoint(identifyState), log: slog.New(slog.NewJSONHandler(f, nil)), host: instrument.FQDN()}
	return h, func(context.Context) error { return f.Close() }, nil
}

// ServeHTTP serves the request and writes its line.
func (a *slogAudit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, r2 := serveRecorded(a.next, w, r)
	ok := st.w.status/100 == 2
	level := slog.LevelInfo
	if !ok {
		level = slog.LevelWarn
	}
	a.log.LogAttrs(r.Context(), level, "audit",
		slog.String("logger", st.logger),
		slog.String("user_ip", clientIP(r)),
		slog.String("req_method", r.Method),
		slog.String("req_url", r.URL.Path),
		slog.Bool("success", ok),
		slog.String("hostname", a.host),
		slog.Int("status", st.w.status),
		slog.String("event", st.event),
		slog.String("user", st.user),
		slog.String("user_id", st.userID),
		slog.String("kwarg_datastore_id", r2.PathValue("datastore_id")),
	)
}

// otelStdAudit is the standard OpenTelemetry way: one log record per
// request through the logs API, with the audit line's fields as the
// attributes otelaudit gives them (package psono; the event as the event
// name, the severity INFO or WARN), emitted with the
// request's context (otelhttp's span: its trace and span ids).
type otelStdAudit struct {
	next   http.Handler
	logger otellog.Logger
	host   string
}

// datastoreKey is the attribute key of the path parameter, otelaudit's.
var datastoreKey = psono.KwargAttr("datastore_id")

// otelStdPeer returns the otelstd mode: otelhttp as otelaudit configures it
// (a tracer provider that samples nothing), and the records into an sdk/log
// LoggerProvider with the SDK's defaults, a SimpleProcessor and the
// stdoutlog exporter writing to dir/stdoutlog.jsonl (one JSON line per
// record); with otlp also a BatchProcessor and otlploghttp, configured by
// the standard environment variables (OTEL_EXPORTER_OTLP_ENDPOINT).
func otelStdPeer(dir string, otlp bool) (http.Handler, func(context.Context) error, error) {
	f, err := os.OpenFile(filepath.Join(dir, stdoutlogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	stdout, err := stdoutlog.New(stdoutlog.WithWriter(f))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	host := instrument.FQDN()
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("auditload-otelstd"), semconv.HostName(host)))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	opts := []sdklog.LoggerProviderOption{sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(stdout))}
	if otlp {
		exp, err := otlploghttp.New(context.Background())
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		opts = append(opts, sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	}
	lp := sdklog.NewLoggerProvider(opts...)
	tp := neverSampleTP()
	a := &otelStdAudit{next: endpoint(identifyState), logger: lp.Logger("github.com/otelaudit/otelaudit/internal/cmd/auditload"), host: host}
	shutdown := func(ctx context.Context) error {
		err := lp.Shutdown(ctx) // flushes the batch
		if e := tp.Shutdown(ctx); err == nil {
			err = e
		}
		if e := f.Close(); err == nil {
			err = e
		}
		return err
	}
	return otelhttp.NewHandler(a, "http.server", otelhttp.WithTracerProvider(tp)), shutdown, nil
}

// ServeHTTP serves the request and emits its record.
func (a *otelStdAudit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, r2 := serveRecorded(a.next, w, r)
	ok := st.w.status/100 == 2
	var rec otellog.Record
	now := time.Now()
	rec.SetTimestamp(now)
	rec.SetObservedTimestamp(now)
	rec.SetEventName(st.event)
	if ok {
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetSeverityText("INFO")
	} else {
		rec.SetSeverity(otellog.SeverityWarn)
		rec.SetSeverityText("WARN")
	}
	rec.AddAttributes(
		psono.Logger.Attr.String(st.logger),
		psono.UserIP.Attr.String(clientIP(r)),
		psono.ReqMethod.Attr.String(r.Method),
		psono.ReqURL.Attr.String(r.URL.Path),
		psono.Success.Attr.Bool(ok),
		psono.Hostname.Attr.String(a.host),
		psono.Status.Attr.Int(st.w.status),
		psono.User.Attr.String(st.user),
		psono.UserID.Attr.String(st.userID),
		datastoreKey.String(r2.PathValue("datastore_id")),
	)
	a.logger.Emit(r.Context(), rec)
}

// otelAuditPeer returns the otelaudit modes: otelaudit.New with audit.log
// in dir/audit-log at durability, forwarding when the environment
// configures OTLP (through the spool, or the memory queue with memory), and
// its Handler around the endpoint, which reports the user with the
// instrument setters the demo uses.
func otelAuditPeer(dir, durability string, memory bool) (http.Handler, func(context.Context) error, error) {
	settings := fmt.Sprintf("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: %s\nLOGGING_AUDIT_DURABILITY: %s\n",
		filepath.Join(dir, auditLogDir), durability)
	if memory {
		settings += "LOGGING_AUDIT_FORWARD_QUEUE: memory\n"
	}
	s, err := config.Parse("auditload settings", []byte(settings))
	if err != nil {
		return nil, nil, err
	}
	a, err := otelaudit.New(s, otelaudit.WithServiceName("auditload-otelaudit"))
	if err != nil {
		return nil, nil, err
	}
	identify := func(ctx context.Context, u peerUser, event string) {
		instrument.SetLogger(ctx, peerLogger)
		if u.name != "" {
			instrument.SetUser(ctx, u.name, u.id)
		}
		instrument.SetEvent(ctx, event)
	}
	return a.Handler(endpoint(identify)), a.Shutdown, nil
}
