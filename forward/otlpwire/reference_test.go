package otlpwire

// Test helpers: records emitted through real LoggerProviders, and the
// request the standard otlploghttp exporter sends for them.

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit/sdklogtest"
)

// otlpEnv lists the variables that would change how an exporter under test
// is configured; tests clear them.
var otlpEnv = []string{
	EnvLogsEndpoint, EnvEndpoint, EnvLogsInsecure, EnvInsecure, EnvLogsHeaders, EnvHeaders,
	EnvLogsCompression, EnvCompression, EnvLogsTimeout, EnvTimeout, EnvLogsCertificate,
	EnvCertificate, EnvLogsClientCertificate, EnvLogsClientKey, EnvClientCertificate, EnvClientKey,
}

func clearOTLPEnv(t testing.TB) {
	t.Helper()
	for _, k := range otlpEnv {
		t.Setenv(k, "")
	}
}

// capture is an OTLP/HTTP receiver that keeps the body of each request
// (decompressed) and answers 200 with an empty body.
type capture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	header []http.Header
	paths  []string
}

func newCapture(t testing.TB) *capture {
	t.Helper()
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		data, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.bodies = append(c.bodies, data)
		c.header = append(c.header, r.Header.Clone())
		c.paths = append(c.paths, r.URL.Path)
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// take returns and forgets the bodies received so far.
func (c *capture) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.bodies
	c.bodies, c.header, c.paths = nil, nil, nil
	return b
}

// takeOne returns and forgets the one request received so far.
func (c *capture) takeOne(t testing.TB) (body []byte, path string, header http.Header) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) != 1 {
		t.Fatalf("the server received %d requests, want 1", len(c.bodies))
	}
	body, path, header = c.bodies[0], c.paths[0], c.header[0]
	c.bodies, c.header, c.paths = nil, nil, nil
	return body, path, header
}

// reference sends records through the standard otlploghttp exporter.
type reference struct {
	t   testing.TB
	cap *capture
	exp *otlploghttp.Exporter
}

func newReference(t testing.TB) *reference {
	t.Helper()
	clearOTLPEnv(t)
	c := newCapture(t)
	exp, err := otlploghttp.New(context.Background(),
		otlploghttp.WithEndpointURL(c.srv.URL+"/v1/logs"),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return &reference{t: t, cap: c, exp: exp}
}

// request returns what otlploghttp sends for records, normalized, or its
// error.
func (r *reference) request(records []sdklog.Record) (*collogspb.ExportLogsServiceRequest, error) {
	r.t.Helper()
	if err := r.exp.Export(context.Background(), records); err != nil {
		return nil, err
	}
	bodies := r.cap.take()
	if len(bodies) != 1 {
		r.t.Fatalf("otlploghttp sent %d requests for one batch, want 1", len(bodies))
	}
	return decode(r.t, bodies[0]), nil
}

// decode unmarshals an ExportLogsServiceRequest and normalizes it.
func decode(t testing.TB, body []byte) *collogspb.ExportLogsServiceRequest {
	t.Helper()
	req := &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		t.Fatalf("unmarshal ExportLogsServiceRequest: %v", err)
	}
	normalize(req)
	return req
}

// normalize sorts the ResourceLogs of req: otlploghttp emits them in map
// order. Their resources differ (they are grouped by attribute set), so
// sorting by the resource's deterministic encoding is a total order.
func normalize(req *collogspb.ExportLogsServiceRequest) {
	keys := make(map[*logspb.ResourceLogs][]byte)
	for _, rl := range req.ResourceLogs {
		keys[rl], _ = proto.MarshalOptions{Deterministic: true}.Marshal(rl.GetResource())
	}
	slices.SortStableFunc(req.ResourceLogs, func(a, b *logspb.ResourceLogs) int { return bytes.Compare(keys[a], keys[b]) })
}

// diff returns the two requests in text form, for failure messages.
func diff(got, want proto.Message) string {
	o := prototext.MarshalOptions{Multiline: true, Indent: "  "}
	return "got:\n" + o.Format(got) + "\nwant:\n" + o.Format(want)
}

// emitter emits records through LoggerProviders (one per resource) into
// one Recorder, so that records keep the order they were emitted in.
type emitter struct {
	t         testing.TB
	rec       *sdklogtest.Recorder
	opts      []sdklog.LoggerProviderOption
	providers map[*resource.Resource]*sdklog.LoggerProvider
}

func newEmitter(t testing.TB, opts ...sdklog.LoggerProviderOption) *emitter {
	return &emitter{t: t, rec: &sdklogtest.Recorder{}, opts: opts, providers: map[*resource.Resource]*sdklog.LoggerProvider{}}
}

func (e *emitter) emit(ctx context.Context, res *resource.Resource, scope string, lopts []log.LoggerOption, r log.Record) {
	lp, ok := e.providers[res]
	if !ok {
		opts := append(slices.Clone(e.opts), sdklog.WithResource(res), sdklog.WithProcessor(e.rec))
		lp = sdklog.NewLoggerProvider(opts...)
		e.providers[res] = lp
		e.t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	}
	lp.Logger(scope, lopts...).Emit(ctx, r)
}

func (e *emitter) records() []sdklog.Record { return e.rec.Records() }
