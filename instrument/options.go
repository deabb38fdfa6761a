package instrument

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/log"
)

// DefaultLogger is the logger of a record whose handler did not call
// SetLogger, unless WithDefaultLogger says otherwise.
const DefaultLogger = "otelaudit.http"

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
	errorLog       func(error)
	strict         func() error

	strictMaxResponse, strictMaxHeld int64
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
// with TruncatedMark. n below one means DefaultMaxValueLength, as every
// option's zero does; from 1 to 63 it is taken as 64, room for the mark.
func WithMaxValueLength(n int) Option {
	return func(c *config) {
		if n < 1 {
			n = DefaultMaxValueLength
		}
		c.maxValueLength = max(n, 64)
	}
}

// WithErrorLog sets the function that reports a handler's panic, with the
// request's method and path, the panic value and the stack. The default is
// otel.Handle.
func WithErrorLog(f func(error)) Option {
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

// WithStrictLimits bounds what strict mode holds in memory: one response at
// most maxResponse bytes (default DefaultStrictMaxResponse), all held
// responses together at most maxHeld bytes (default DefaultStrictMaxHeld).
// A handler's Write past either bound fails with ErrResponseTooLarge, the
// response drops what it held, and the client gets 503 instead of the
// response, recorded with that status. A value of 0 or less keeps the
// default.
//
// maxHeld bounds the memory the held bodies take, not only their length: a
// body is held in chunks that double in size as it grows (so a body may
// take up to twice its length, at least 512 bytes, never more than
// maxResponse), each chunk's capacity is counted before it is allocated,
// and a chunk that would pass maxHeld is not allocated. A body is let go of
// when it has been sent or dropped; the garbage collector then reclaims it
// as any other memory (GOGC, GOMEMLIMIT). Headers are not counted.
func WithStrictLimits(maxResponse, maxHeld int64) Option {
	return func(c *config) {
		if maxResponse > 0 {
			c.strictMaxResponse = maxResponse
		}
		if maxHeld > 0 {
			c.strictMaxHeld = maxHeld
		}
	}
}
