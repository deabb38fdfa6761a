package otlpwire

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"time"
)

// Defaults, as otlploghttp's.
const (
	// DefaultEndpoint is the host:port sent to when neither an option nor
	// the environment names one.
	DefaultEndpoint = "localhost:4318"
	// DefaultPath is the URL path of OTLP/HTTP logs.
	DefaultPath = "/v1/logs"
	// DefaultTimeout bounds one export when neither WithTimeout nor
	// OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT sets a timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxRequestSize is the largest request body (before
	// compression) an export sends: 64 MiB.
	DefaultMaxRequestSize = 64 << 20
	// DefaultMaxResponseSize is the largest response body an export reads:
	// 4 MiB.
	DefaultMaxResponseSize = 4 << 20
)

// Compression is the content encoding of request bodies.
type Compression int

const (
	// NoCompression sends bodies as they are.
	NoCompression Compression = iota
	// GzipCompression sends bodies gzip-compressed (Content-Encoding: gzip).
	GzipCompression
)

// Option configures [New]. An option takes precedence over the environment
// variable that sets the same thing.
type Option func(*config)

// setting is a configuration value and whether an option or the environment
// set it.
type setting[T any] struct {
	v   T
	set bool
}

func set[T any](v T) setting[T] { return setting[T]{v, true} }

type config struct {
	endpoint        setting[string] // host[:port]
	path            setting[string]
	insecure        setting[bool]
	tls             setting[*tls.Config]
	headers         setting[map[string]string]
	compression     setting[Compression]
	timeout         setting[time.Duration]
	proxy           func(*http.Request) (*url.URL, error)
	httpClient      *http.Client
	maxRequestSize  int
	maxResponseSize int64
	errs            []error // from options given invalid values
}

// WithEndpoint sets the host and optional port to send to (no scheme, no
// path: see WithInsecure and WithURLPath). It takes precedence over
// OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT's host; by default "localhost:4318".
func WithEndpoint(hostport string) Option {
	return func(c *config) { c.endpoint = set(hostport) }
}

// WithEndpointURL sets host, path and (from the scheme: http means
// insecure, https secure) transport security from a URL such as
// "http://collector:4318/v1/logs", taking precedence over
// OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT. An invalid URL makes [New] fail
// (otlploghttp ignores it).
func WithEndpointURL(rawURL string) Option {
	return func(c *config) {
		u, err := url.Parse(rawURL)
		if err == nil && u.Host == "" {
			err = errors.New("no host in it; write it as http://host:port/v1/logs or https://host:port/v1/logs")
		}
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("otlpwire: WithEndpointURL(%q): %v", rawURL, err))
			return
		}
		c.endpoint = set(u.Host)
		c.path = set(u.Path)
		if s := insecureFromScheme(u.Scheme); s.set {
			c.insecure = s
		}
	}
}

// WithURLPath sets the URL path to post to, taking precedence over the
// path of OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT; by default "/v1/logs".
func WithURLPath(path string) Option {
	return func(c *config) { c.path = set(path) }
}

// WithInsecure sends over plain HTTP instead of HTTPS. Without it, an
// endpoint variable whose scheme is not https, or
// OTEL_EXPORTER_OTLP_[LOGS_]INSECURE=true, means plain HTTP too.
func WithInsecure() Option {
	return func(c *config) { c.insecure = set(true) }
}

// WithTLSClientConfig sets the TLS configuration (root CAs, client
// certificates) of HTTPS connections, instead of the one
// OTEL_EXPORTER_OTLP_[LOGS_]CERTIFICATE, _CLIENT_CERTIFICATE and
// _CLIENT_KEY describe. The configuration is cloned.
func WithTLSClientConfig(cfg *tls.Config) Option {
	return func(c *config) { c.tls = set(cfg.Clone()) }
}

// WithHeaders sends headers with every request, instead of those of
// OTEL_EXPORTER_OTLP_[LOGS_]HEADERS. The map is copied.
func WithHeaders(headers map[string]string) Option {
	return func(c *config) { c.headers = set(maps.Clone(headers)) }
}

// WithCompression sets the request body encoding, instead of
// OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION; by default none. gzip compresses
// at gzip.BestSpeed (otlploghttp: the default level), for the service's
// CPU's sake.
func WithCompression(comp Compression) Option {
	return func(c *config) { c.compression = set(comp) }
}

// WithTimeout bounds each export (request and response), instead of
// OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT; 0 means no bound other than the
// Export context's. By default 10 seconds. Unlike otlploghttp, the bound
// applies with WithHTTPClient too.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = set(d) }
}

// WithProxy sets how the proxy of a request is chosen; by default
// [http.ProxyFromEnvironment] (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as
// net/http's default transport does.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) Option {
	return func(c *config) { c.proxy = proxy }
}

// WithHTTPClient sends with client. Its transport then decides TLS and
// proxy: WithTLSClientConfig, WithProxy and the certificate variables are
// not used.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.httpClient = client }
}

// WithMaxRequestSize sets the largest request body, before compression, an
// export sends; a larger batch fails without being sent. 0 or less removes
// the limit. By default 64 MiB.
func WithMaxRequestSize(n int) Option {
	return func(c *config) { c.maxRequestSize = n }
}

// WithMaxResponseSize sets the largest response body an export reads; a
// larger one fails the export. Values of 0 or less keep the default, 4 MiB.
func WithMaxResponseSize(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxResponseSize = n
		}
	}
}
