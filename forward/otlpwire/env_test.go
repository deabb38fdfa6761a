package otlpwire

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
)

// TestEnvMatchesOtlploghttp sets the same environment for otlploghttp and
// for this exporter, lets each send a batch to a capturing server, and
// compares what arrived: path, headers and content encoding.
func TestEnvMatchesOtlploghttp(t *testing.T) {
	c := newCapture(t)
	host := strings.TrimPrefix(c.srv.URL, "http://")
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"logs endpoint with path", map[string]string{EnvLogsEndpoint: "http://" + host + "/custom/logs"}},
		{"logs endpoint without path", map[string]string{EnvLogsEndpoint: "http://" + host}},
		{"generic endpoint without path", map[string]string{EnvEndpoint: "http://" + host}},
		{"generic endpoint with path", map[string]string{EnvEndpoint: "http://" + host + "/prefix/"}},
		{"logs endpoint wins", map[string]string{EnvEndpoint: "http://127.0.0.1:1/x", EnvLogsEndpoint: "http://" + host + "/y"}},
		{"headers", map[string]string{EnvEndpoint: "http://" + host, EnvHeaders: "api-key=s%20e%2Ccret, X-Tenant = acme ,empty="}},
		{"logs headers win", map[string]string{EnvEndpoint: "http://" + host, EnvHeaders: "a=1", EnvLogsHeaders: "b=2"}},
		{"gzip", map[string]string{EnvEndpoint: "http://" + host, EnvCompression: "gzip"}},
		{"logs compression wins", map[string]string{EnvEndpoint: "http://" + host, EnvCompression: "gzip", EnvLogsCompression: "none"}},
		{"insecure variable with an http endpoint", map[string]string{EnvEndpoint: "http://" + host, EnvInsecure: "false"}},
		{"timeout", map[string]string{EnvEndpoint: "http://" + host, EnvTimeout: "5000", EnvLogsTimeout: "7000"}},
	}
	e := newEmitter(t)
	e.emit(traceCtx, resA, "otelaudit", nil, psonoRecord(1))
	records := e.records()

	type arrival struct {
		path   string
		header http.Header
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTLPEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got [2]arrival
			ref, err := otlploghttp.New(context.Background(), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.Export(context.Background(), records); err != nil {
				t.Fatalf("otlploghttp: %v", err)
			}
			_, got[0].path, got[0].header = c.takeOne(t)
			exp, err := New(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := exp.Export(context.Background(), records); err != nil {
				t.Fatalf("otlpwire: %v", err)
			}
			_, got[1].path, got[1].header = c.takeOne(t)
			if k, v := lookup(func(k string) string { return tt.env[k] }, EnvLogsTimeout, EnvTimeout); k != "" && exp.timeout != mustMillis(t, v) {
				t.Errorf("timeout %s, want %s ms from %s", exp.timeout, v, k)
			}
			std, mine := got[0], got[1]
			if mine.path != std.path {
				t.Errorf("path %q, otlploghttp %q", mine.path, std.path)
			}
			for _, h := range []string{"Content-Type", "Content-Encoding", "Api-Key", "X-Tenant", "Empty", "A", "B"} {
				if mine.header.Get(h) != std.header.Get(h) || len(mine.header.Values(h)) != len(std.header.Values(h)) {
					t.Errorf("header %s: %q, otlploghttp %q", h, mine.header.Values(h), std.header.Values(h))
				}
			}
		})
	}
}

func mustMillis(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s + "ms")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEnvConfig checks the configuration each environment gives, defaults
// included.
func TestEnvConfig(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		opts     []Option
		url      string
		insecure bool
		gzip     bool
		timeout  time.Duration
		headers  map[string]string
	}{
		{name: "defaults", url: "https://localhost:4318/v1/logs", timeout: DefaultTimeout},
		{name: "https endpoint", env: map[string]string{EnvEndpoint: "https://collector:4318"}, url: "https://collector:4318/v1/logs", timeout: DefaultTimeout},
		{name: "http endpoint is insecure", env: map[string]string{EnvEndpoint: "http://collector:4318"}, url: "http://collector:4318/v1/logs", insecure: true, timeout: DefaultTimeout},
		{name: "https endpoint wins over INSECURE", env: map[string]string{EnvEndpoint: "https://c:1", EnvInsecure: "true"}, url: "https://c:1/v1/logs", timeout: DefaultTimeout},
		{name: "LOGS_INSECURE", env: map[string]string{EnvLogsInsecure: "TRUE", EnvInsecure: "false"}, url: "http://localhost:4318/v1/logs", insecure: true, timeout: DefaultTimeout},
		{name: "logs endpoint path as is", env: map[string]string{EnvLogsEndpoint: "http://c:1/a/b"}, url: "http://c:1/a/b", insecure: true, timeout: DefaultTimeout},
		{name: "logs endpoint empty path", env: map[string]string{EnvLogsEndpoint: "http://c:1"}, url: "http://c:1/", insecure: true, timeout: DefaultTimeout},
		{name: "generic endpoint path joined", env: map[string]string{EnvEndpoint: "http://c:1/otlp/"}, url: "http://c:1/otlp/v1/logs", insecure: true, timeout: DefaultTimeout},
		{name: "timeout 0", env: map[string]string{EnvTimeout: "0"}, url: "https://localhost:4318/v1/logs"},
		{name: "timeout", env: map[string]string{EnvLogsTimeout: "1500", EnvTimeout: "9"}, url: "https://localhost:4318/v1/logs", timeout: 1500 * time.Millisecond},
		{name: "gzip", env: map[string]string{EnvCompression: "gzip"}, url: "https://localhost:4318/v1/logs", gzip: true, timeout: DefaultTimeout},
		{name: "headers", env: map[string]string{EnvHeaders: "Authorization=Basic%20eDp5,x-a=1"}, url: "https://localhost:4318/v1/logs", timeout: DefaultTimeout,
			headers: map[string]string{"Authorization": "Basic eDp5", "X-A": "1"}},
		{name: "options win", env: map[string]string{EnvEndpoint: "http://c:1", EnvHeaders: "a=1", EnvTimeout: "5", EnvCompression: "gzip"},
			opts: []Option{WithEndpoint("d:2"), WithURLPath("/p"), WithHeaders(map[string]string{"b": "2"}), WithTimeout(time.Second), WithCompression(NoCompression)},
			url:  "http://d:2/p", insecure: true, timeout: time.Second, headers: map[string]string{"B": "2"}},
		{name: "endpoint URL option", env: map[string]string{EnvEndpoint: "http://c:1"},
			opts: []Option{WithEndpointURL("https://d:2/q")}, url: "https://d:2/q", timeout: DefaultTimeout},
		{name: "insecure option", opts: []Option{WithInsecure()}, url: "http://localhost:4318/v1/logs", insecure: true, timeout: DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := newExporter(func(k string) string { return tt.env[k] }, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if x.URL() != tt.url {
				t.Errorf("URL %q, want %q", x.URL(), tt.url)
			}
			if x.gzip != tt.gzip || x.timeout != tt.timeout {
				t.Errorf("gzip %v timeout %v, want %v %v", x.gzip, x.timeout, tt.gzip, tt.timeout)
			}
			for k, v := range tt.headers {
				if got := x.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := x.header.Get("User-Agent"); got != UserAgent {
				t.Errorf("User-Agent %q", got)
			}
		})
	}
}

// TestEnvErrors checks that invalid settings fail New with an error that
// names the variable, where otlploghttp would quietly ignore them.
func TestEnvErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		opts []Option
		want []string
	}{
		{"endpoint without scheme", map[string]string{EnvEndpoint: "collector:4318"}, nil, []string{EnvEndpoint, "no host", "http://host:4318"}},
		{"endpoint not a URL", map[string]string{EnvLogsEndpoint: "http://[::1"}, nil, []string{EnvLogsEndpoint}},
		{"insecure", map[string]string{EnvInsecure: "yes"}, nil, []string{EnvInsecure, "true or false"}},
		{"compression", map[string]string{EnvLogsCompression: "zstd"}, nil, []string{EnvLogsCompression, "gzip or none"}},
		{"timeout", map[string]string{EnvTimeout: "10s"}, nil, []string{EnvTimeout, "milliseconds"}},
		{"headers", map[string]string{EnvHeaders: "good=1,bad header=2,novalue"}, nil, []string{EnvHeaders, `"bad header"`, `"novalue" has no =`}},
		{"certificate missing", map[string]string{EnvCertificate: dir + "/missing.pem"}, nil, []string{EnvCertificate, "missing.pem"}},
		{"client key missing", map[string]string{EnvClientCertificate: dir + "/c.pem"}, nil, []string{EnvClientCertificate + " is set but " + EnvClientKey + " is not"}},
		{"http with certificate", map[string]string{EnvEndpoint: "http://c:1"}, []Option{WithTLSClientConfig(nil)}, nil},
		{"bad endpoint URL option", nil, []Option{WithEndpointURL("collector")}, []string{"WithEndpointURL", "no host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newExporter(func(k string) string { return tt.env[k] }, tt.opts...)
			if tt.want == nil {
				// WithTLSClientConfig(nil) sets no TLS: no conflict.
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewReadsEnvironment(t *testing.T) {
	clearOTLPEnv(t)
	t.Setenv(EnvEndpoint, "http://collector.invalid:4318/base")
	x, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(x.URL()); u.String() != "http://collector.invalid:4318/base/v1/logs" {
		t.Errorf("URL %s", x.URL())
	}
}
