package otlpwire

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

// UserAgent is the User-Agent header of every request.
const UserAgent = "otelaudit-otlpwire/1 (OTLP over HTTP/protobuf logs exporter)"

// ErrShutdown is returned by Export after Shutdown. It wraps
// sdklog.ErrExporterShutdown, so errors.Is(err, sdklog.ErrExporterShutdown)
// holds too.
var ErrShutdown = fmt.Errorf("otlpwire: the exporter was shut down; no further batches are sent: %w", sdklog.ErrExporterShutdown)

// Exporter is an sdklog.Exporter that posts batches as OTLP/HTTP protobuf
// requests, encoded by [AppendRequest]. It is safe for concurrent use.
// Create it with [New].
type Exporter struct {
	url             string
	client          *http.Client
	transport       *http.Transport // ours, to close idle connections at shutdown; nil with WithHTTPClient
	header          http.Header
	gzip            bool
	timeout         time.Duration
	maxRequestSize  int
	maxResponseSize int64
	stopped         atomic.Bool

	// spare is the encoder of the last Export, kept here rather than in
	// the package's pool, which every garbage collection empties: a batch
	// then starts from scratch space of the right size.
	spare    atomic.Pointer[encoder]
	spareBuf atomic.Pointer[buffer] // a free request body, kept for the same reason
}

var _ sdklog.Exporter = (*Exporter)(nil)

// New returns an Exporter configured by opts and, for what they leave
// unset, by the environment variables otlploghttp reads, with the same
// meaning:
//
//   - OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, a URL used as is (its path is the
//     request path, "/" when empty), or else OTEL_EXPORTER_OTLP_ENDPOINT, a
//     URL whose path gets /v1/logs appended; by default
//     https://localhost:4318/v1/logs. A scheme other than https means plain
//     HTTP;
//   - OTEL_EXPORTER_OTLP_[LOGS_]INSECURE=true for plain HTTP when the
//     endpoint has no scheme;
//   - OTEL_EXPORTER_OTLP_[LOGS_]HEADERS, key=value pairs separated by commas,
//     values URL-escaped;
//   - OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT in milliseconds (10000 by default);
//   - OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION, gzip or none;
//   - OTEL_EXPORTER_OTLP_[LOGS_]CERTIFICATE, a PEM file of the CAs that
//     verify the receiver, and OTEL_EXPORTER_OTLP_[LOGS_]CLIENT_CERTIFICATE
//     with _CLIENT_KEY, the PEM files of a client certificate;
//   - HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as net/http's default transport.
//
// Where otlploghttp ignores an invalid value (reporting it to the
// OpenTelemetry error handler), New fails with an error naming the variable.
// ctx is not used: New connects to nothing.
func New(ctx context.Context, opts ...Option) (*Exporter, error) {
	_ = ctx
	return newExporter(os.Getenv, opts...)
}

func newExporter(getenv func(string) string, opts ...Option) (*Exporter, error) {
	c := config{
		maxRequestSize:  DefaultMaxRequestSize,
		maxResponseSize: DefaultMaxResponseSize,
	}
	for _, o := range opts {
		o(&c)
	}
	if err := c.applyEnv(getenv); err != nil {
		return nil, err
	}

	u := url.URL{Scheme: "https", Host: c.endpoint.v, Path: c.path.v}
	if c.insecure.v {
		u.Scheme = "http"
	}
	x := &Exporter{
		url:             u.String(),
		client:          c.httpClient,
		header:          make(http.Header),
		gzip:            c.compression.v == GzipCompression,
		timeout:         c.timeout.v,
		maxRequestSize:  c.maxRequestSize,
		maxResponseSize: c.maxResponseSize,
	}
	if x.client == nil {
		x.transport = newTransport()
		if c.proxy != nil {
			x.transport.Proxy = c.proxy
		}
		x.transport.TLSClientConfig = c.tls.v
		x.client = &http.Client{Transport: x.transport}
	}
	x.header.Set("User-Agent", UserAgent)
	for k, v := range c.headers.v {
		x.header.Set(k, v)
	}
	x.header.Set("Content-Type", "application/x-protobuf")
	if x.gzip {
		x.header.Set("Content-Encoding", "gzip")
	}
	return x, nil
}

// newTransport returns a transport set like net/http's DefaultTransport
// (and otlploghttp's own copy of it).
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// URL returns the URL batches are posted to.
func (x *Exporter) URL() string { return x.url }

// Export encodes records as one ExportLogsServiceRequest and posts it. It
// returns nil once the receiver answered 2xx without rejecting anything; a
// [*RetryableError] for 429, 502, 503 and 504 (nothing was accepted: the
// caller may send the batch again, after RetryAfter when given); a
// [*PartialSuccessError], wrapped, when a 2xx answer reports rejected
// records; a [*StatusError] for any other status; the transport's error
// (wrapped, so errors.Is finds for example syscall.ECONNREFUSED) when no
// answer came. Export does not retry by itself.
//
// Export gives up when ctx ends or the configured timeout passes, and
// returns [ErrShutdown] after Shutdown. An empty batch sends nothing.
func (x *Exporter) Export(ctx context.Context, records []sdklog.Record) error {
	if x.stopped.Load() {
		return ErrShutdown
	}
	if len(records) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("otlpwire: %d records not sent to %s: %w", len(records), x.url, err)
	}

	raw := x.getBuffer()
	var err error
	raw.b, err = x.appendRequest(raw.b[:0], records)
	if err != nil {
		raw.release()
		return err
	}
	if x.maxRequestSize > 0 && len(raw.b) > x.maxRequestSize {
		n := len(raw.b)
		raw.release()
		return fmt.Errorf("otlpwire: the batch of %d records encodes to %d bytes, more than the %d-byte request limit (WithMaxRequestSize); "+
			"it was not sent: export smaller batches (sdklog.WithExportMaxBatchSize)", len(records), n, x.maxRequestSize)
	}
	body := raw
	if x.gzip {
		body = x.getBuffer()
		body.b, err = gzipAppend(body.b[:0], raw.b)
		raw.release()
		if err != nil {
			body.release()
			return fmt.Errorf("otlpwire: compressing the batch: %w", err)
		}
	}
	// The transport may read the body after Do returns: each body reader
	// holds a reference to the buffer and gives it back when closed.
	defer body.release()

	if x.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, x.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, nil)
	if err != nil {
		return fmt.Errorf("otlpwire: building the request to %s: %w", x.url, err)
	}
	req.Header = x.header.Clone()
	req.ContentLength = int64(len(body.b))
	req.Body = body.reader()
	req.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }

	resp, err := x.client.Do(req)
	if err != nil {
		return fmt.Errorf("otlpwire: sending %d records to %s: %w", len(records), x.url, err)
	}
	defer func() {
		// Drain a little so that the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		_ = resp.Body.Close()
	}()
	return x.response(resp, len(records))
}

// appendRequest is AppendRequest with the exporter's own encoder when it is
// free.
func (x *Exporter) appendRequest(dst []byte, records []sdklog.Record) ([]byte, error) {
	e := x.spare.Swap(nil)
	if e == nil {
		e = encoderPool.Get().(*encoder)
	}
	dst, err := e.appendRequest(dst, records)
	e.reset()
	if !x.spare.CompareAndSwap(nil, e) {
		encoderPool.Put(e)
	}
	return dst, err
}

// response interprets the receiver's answer to a batch of n records.
func (x *Exporter) response(resp *http.Response, n int) error {
	data, err := readLimited(resp.Body, x.maxResponseSize)
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if err != nil {
		if ok {
			return fmt.Errorf("otlpwire: the receiver at %s answered %s to %d records, but reading its answer failed: %w", x.url, resp.Status, n, err)
		}
		data = nil
	}
	if ok {
		if len(data) == 0 || resp.Header.Get("Content-Type") != "application/x-protobuf" {
			return nil
		}
		var r collogspb.ExportLogsServiceResponse
		if err := proto.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("otlpwire: the receiver at %s answered %s to %d records with a body that is not an ExportLogsServiceResponse: %w", x.url, resp.Status, n, err)
		}
		ps := r.GetPartialSuccess()
		if ps.GetRejectedLogRecords() == 0 && ps.GetErrorMessage() == "" {
			return nil
		}
		return fmt.Errorf("otlpwire: the receiver at %s accepted only part of a batch of %d records: %w", x.url, n,
			&PartialSuccessError{Rejected: ps.GetRejectedLogRecords(), Message: ps.GetErrorMessage()})
	}
	excerpt := bodyExcerpt(data)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return &RetryableError{
			URL: x.url, Records: n, StatusCode: resp.StatusCode, Status: resp.Status,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Body: excerpt,
		}
	}
	return &StatusError{URL: x.url, Records: n, StatusCode: resp.StatusCode, Status: resp.Status, Body: excerpt}
}

// Shutdown makes every later Export return [ErrShutdown] and closes idle
// connections. Exports under way finish (bounded by their context and the
// timeout). It is idempotent and always returns nil.
func (x *Exporter) Shutdown(context.Context) error {
	if !x.stopped.Swap(true) && x.transport != nil {
		x.transport.CloseIdleConnections()
	}
	return nil
}

// ForceFlush does nothing and returns nil: the Exporter holds no records.
func (x *Exporter) ForceFlush(context.Context) error { return nil }

// RetryableError reports an answer that accepted nothing and asks for the
// batch again later: 429 Too Many Requests, 502 Bad Gateway, 503 Service
// Unavailable or 504 Gateway Timeout (the statuses otlploghttp retries).
type RetryableError struct {
	URL        string
	Records    int           // records in the batch
	StatusCode int           // the HTTP status code
	Status     string        // the HTTP status line, e.g. "503 Service Unavailable"
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
	Body       string        // the start of the response body
}

// Error says what happened and what to do: the batch may be sent again.
func (e *RetryableError) Error() string {
	wait := ""
	if e.RetryAfter > 0 {
		wait = fmt.Sprintf(" after %s, as its Retry-After asks", e.RetryAfter)
	}
	return fmt.Sprintf("otlpwire: the receiver at %s is overloaded or unavailable and accepted none of %d records: %s (body: %s); the batch can be sent again%s",
		e.URL, e.Records, e.Status, e.Body, wait)
}

// StatusError reports an answer with a status other than 2xx that is not
// worth retrying as such: the request, the credentials or the receiver's
// configuration must change first.
type StatusError struct {
	URL        string
	Records    int    // records in the batch
	StatusCode int    // the HTTP status code
	Status     string // the HTTP status line
	Body       string // the start of the response body
}

// Error names the receiver, the status, the start of the body and, for
// common statuses, what to check.
func (e *StatusError) Error() string {
	hint := ""
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = "; check the credentials in OTEL_EXPORTER_OTLP_[LOGS_]HEADERS"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		hint = "; check the URL path: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as is, OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/logs appended"
	case http.StatusRequestEntityTooLarge:
		hint = "; the receiver takes smaller requests: lower the batch size (sdklog.WithExportMaxBatchSize) or raise the receiver's limit"
	case http.StatusUnsupportedMediaType:
		hint = "; the receiver does not take OTLP protobuf (or gzip) at this URL"
	}
	return fmt.Sprintf("otlpwire: the receiver at %s refused %d records: %s (body: %s)%s", e.URL, e.Records, e.Status, e.Body, hint)
}

// PartialSuccessError reports a 2xx answer whose partial_success rejected
// records or carried a message: the other records were accepted, so sending
// the batch again would duplicate them.
type PartialSuccessError struct {
	Rejected int64  // rejected_log_records
	Message  string // error_message
}

// Error names the number of rejected records and the receiver's message.
func (e *PartialSuccessError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("OTLP partial success: %d log records rejected: %s", e.Rejected, msg)
}

// RetryAfter reports whether err (or an error it wraps) is a
// [*RetryableError], and the pause it asks for (0 when none).
func RetryAfter(err error) (time.Duration, bool) {
	var r *RetryableError
	if errors.As(err, &r) {
		return r.RetryAfter, true
	}
	return 0, false
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(time.Duration(1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// maxExcerpt is how much of an error response body an error quotes.
const maxExcerpt = 512

func bodyExcerpt(data []byte) string {
	s := strings.TrimSpace(string(data[:min(len(data), maxExcerpt)]))
	if s == "" {
		return "(empty)"
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(data) > maxExcerpt {
		s += " …"
	}
	return s
}

// readLimited reads r to its end, failing when it holds more than limit
// bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return data, err
	}
	if int64(len(data)) > limit {
		return data[:limit], fmt.Errorf("response body larger than %d bytes (WithMaxResponseSize)", limit)
	}
	return data, nil
}

// gzipPool holds the compressors of gzip requests. They compress at
// gzip.BestSpeed, not at the default level otlploghttp uses: on a service's
// own CPUs the default level cost about 10 µs per audit record in the loaded
// demo, several times what the encoding costs, for a body a few tenths
// larger; the receiver decompresses either alike.
var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return w
}}

// gzipAppend appends the gzip compression of src to dst.
func gzipAppend(dst, src []byte) ([]byte, error) {
	w := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(w)
	buf := bytes.NewBuffer(dst)
	w.Reset(buf)
	if _, err := w.Write(src); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	w.Reset(io.Discard)
	return buf.Bytes(), nil
}

// buffer is a pooled request body, given back to the pool when the last of
// its holders (Export and each body reader) releases it.
type buffer struct {
	b    []byte
	refs atomic.Int32
	home *atomic.Pointer[buffer] // the exporter's spare slot it goes back to, when free
}

// maxPooledBuffer is the largest body kept for reuse.
const maxPooledBuffer = 8 << 20

var bufferPool = sync.Pool{New: func() any { return new(buffer) }}

func getBuffer() *buffer {
	b := bufferPool.Get().(*buffer)
	b.refs.Store(1)
	return b
}

// getBuffer returns the exporter's spare buffer when it is free, else one
// of the pool: like the encoder, a body buffer of the right size outlives
// the garbage collections that empty the pool.
func (x *Exporter) getBuffer() *buffer {
	b := x.spareBuf.Swap(nil)
	if b == nil {
		b = getBuffer()
	}
	b.refs.Store(1)
	b.home = &x.spareBuf
	return b
}

func (b *buffer) release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	if cap(b.b) <= maxPooledBuffer {
		b.b = b.b[:0]
		if home := b.home; home != nil && home.CompareAndSwap(nil, b) {
			return
		}
		b.home = nil
		bufferPool.Put(b)
	}
}

// reader returns a reader of the buffer that holds a reference to it until
// closed.
func (b *buffer) reader() io.ReadCloser {
	b.refs.Add(1)
	r := &bodyReader{buf: b}
	r.Reset(b.b)
	return r
}

type bodyReader struct {
	bytes.Reader
	buf    *buffer
	closed atomic.Bool
}

func (r *bodyReader) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.buf.release()
	}
	return nil
}
