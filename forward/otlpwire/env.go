package otlpwire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The environment variables read by [New], as otlploghttp reads them: the
// logs-specific variable of each pair wins over the generic one.
const (
	EnvLogsEndpoint          = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	EnvEndpoint              = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvLogsInsecure          = "OTEL_EXPORTER_OTLP_LOGS_INSECURE"
	EnvInsecure              = "OTEL_EXPORTER_OTLP_INSECURE"
	EnvLogsHeaders           = "OTEL_EXPORTER_OTLP_LOGS_HEADERS"
	EnvHeaders               = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvLogsCompression       = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"
	EnvCompression           = "OTEL_EXPORTER_OTLP_COMPRESSION"
	EnvLogsTimeout           = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"
	EnvTimeout               = "OTEL_EXPORTER_OTLP_TIMEOUT"
	EnvLogsCertificate       = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE"
	EnvCertificate           = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	EnvLogsClientCertificate = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE"
	EnvLogsClientKey         = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"
	EnvClientCertificate     = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
	EnvClientKey             = "OTEL_EXPORTER_OTLP_CLIENT_KEY"
)

// lookup returns the first of keys whose variable is set and not empty.
func lookup(getenv func(string) string, keys ...string) (key, value string) {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return k, v
		}
	}
	return "", ""
}

// applyEnv fills what the options left unset from the environment, with
// otlploghttp's meaning, then the defaults. Where otlploghttp reports an
// invalid value to the OpenTelemetry error handler and ignores it (or, for
// an endpoint without a host, sends to an empty host), applyEnv returns an
// error naming the variable.
func (c *config) applyEnv(getenv func(string) string) error {
	errs := c.errs

	// Endpoint: the host of the first endpoint variable set.
	epKey, epVal := lookup(getenv, EnvLogsEndpoint, EnvEndpoint)
	var ep *url.URL
	if epKey != "" {
		u, err := url.Parse(epVal)
		if err == nil && u.Host == "" {
			err = errors.New("it has no host")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("otlpwire: %s=%q is not a usable URL (%v); write it as http://host:4318 (or https://)", epKey, epVal, err))
		} else {
			ep = u
		}
	}
	if !c.endpoint.set {
		c.endpoint = set(DefaultEndpoint)
		if ep != nil {
			c.endpoint = set(ep.Host)
		}
	}

	// Path: the logs variable's path as is ("/" when empty); the generic
	// variable's path with /v1/logs appended.
	if !c.path.set {
		c.path = set(DefaultPath)
		if ep != nil {
			if epKey == EnvLogsEndpoint {
				c.path = set(ep.Path)
				if ep.Path == "" {
					c.path = set("/")
				}
			} else {
				c.path = set(path.Join(ep.Path, DefaultPath))
			}
		}
	}

	// Insecure: from the endpoint variable's scheme, else the INSECURE
	// variables.
	if !c.insecure.set && ep != nil {
		c.insecure = insecureFromScheme(ep.Scheme)
	}
	if !c.insecure.set {
		if k, v := lookup(getenv, EnvLogsInsecure, EnvInsecure); k != "" {
			switch strings.ToLower(v) {
			case "true":
				c.insecure = set(true)
			case "false":
				c.insecure = set(false)
			default:
				errs = append(errs, fmt.Errorf("otlpwire: %s=%q: want true or false", k, v))
			}
		}
	}

	// TLS: root CAs and a client certificate from files.
	if !c.tls.set {
		cfg, err := envTLS(getenv)
		if err != nil {
			errs = append(errs, err)
		} else if cfg != nil {
			c.tls = set(cfg)
		}
	}

	if !c.headers.set {
		if k, v := lookup(getenv, EnvLogsHeaders, EnvHeaders); k != "" {
			h, err := parseHeaders(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("otlpwire: %s: %w; write it as key1=value1,key2=value2 with URL-escaped values", k, err))
			} else {
				c.headers = set(h)
			}
		}
	}

	if !c.compression.set {
		if k, v := lookup(getenv, EnvLogsCompression, EnvCompression); k != "" {
			switch v {
			case "gzip":
				c.compression = set(GzipCompression)
			case "none":
				c.compression = set(NoCompression)
			default:
				errs = append(errs, fmt.Errorf("otlpwire: %s=%q: want gzip or none", k, v))
			}
		}
	}

	if !c.timeout.set {
		c.timeout = set(DefaultTimeout)
		if k, v := lookup(getenv, EnvLogsTimeout, EnvTimeout); k != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 {
				errs = append(errs, fmt.Errorf("otlpwire: %s=%q: want a whole number of milliseconds, such as 10000", k, v))
			} else {
				c.timeout = set(time.Duration(ms) * time.Millisecond)
			}
		}
	}

	if c.insecure.v && c.tls.v != nil && c.httpClient == nil {
		errs = append(errs, errors.New("otlpwire: the endpoint is plain HTTP (insecure) but a TLS configuration is given "+
			"(WithTLSClientConfig or OTEL_EXPORTER_OTLP_[LOGS_]CERTIFICATE / _CLIENT_CERTIFICATE); use an https:// endpoint or drop the TLS settings"))
	}
	return errors.Join(errs...)
}

// insecureFromScheme is otlploghttp's reading of a scheme: https is secure,
// any other scheme insecure, none says nothing.
func insecureFromScheme(scheme string) setting[bool] {
	switch scheme {
	case "":
		return setting[bool]{}
	case "https":
		return set(false)
	}
	return set(true)
}

// envTLS loads the certificate variables: the CA certificates that verify
// the receiver, and a client certificate and key. It returns nil when none
// is set.
func envTLS(getenv func(string) string) (*tls.Config, error) {
	var (
		roots *x509.CertPool
		certs []tls.Certificate
		errs  []error
	)
	if k, file := lookup(getenv, EnvLogsCertificate, EnvCertificate); k != "" {
		pem, err := os.ReadFile(file)
		if err == nil {
			roots = x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				err = errors.New("it holds no PEM certificate")
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("otlpwire: %s=%q: %v", k, file, err))
		}
	}
	pairs := [][2]string{
		{EnvLogsClientCertificate, EnvLogsClientKey},
		{EnvClientCertificate, EnvClientKey},
	}
	var half []string
	found := false
	for _, p := range pairs {
		cert, key := getenv(p[0]), getenv(p[1])
		switch {
		case cert != "" && key != "":
			c, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				errs = append(errs, fmt.Errorf("otlpwire: client certificate %s=%q with key %s=%q: %v", p[0], cert, p[1], key, err))
			} else {
				certs = []tls.Certificate{c}
			}
			found = true
		case cert != "":
			half = append(half, fmt.Sprintf("%s is set but %s is not", p[0], p[1]))
		case key != "":
			half = append(half, fmt.Sprintf("%s is set but %s is not", p[1], p[0]))
		}
		if found {
			break
		}
	}
	if !found && len(half) > 0 {
		errs = append(errs, fmt.Errorf("otlpwire: %s; a client certificate needs both", strings.Join(half, ", and ")))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if roots == nil && certs == nil {
		return nil, nil
	}
	return &tls.Config{RootCAs: roots, Certificates: certs}, nil
}

// parseHeaders reads the OTLP headers format: comma-separated key=value
// pairs, keys HTTP tokens, values URL-escaped; spaces around either are
// trimmed.
func parseHeaders(s string) (map[string]string, error) {
	out := make(map[string]string)
	var errs []error
	for pair := range strings.SplitSeq(s, ",") {
		rawKey, rawVal, ok := strings.Cut(pair, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("%q has no =", pair))
			continue
		}
		key := strings.TrimSpace(rawKey)
		if !validHeaderKey(key) {
			errs = append(errs, fmt.Errorf("%q is not a valid header name", rawKey))
			continue
		}
		val, err := url.PathUnescape(rawVal)
		if err != nil {
			errs = append(errs, fmt.Errorf("the value of %s: %v", key, err))
			continue
		}
		out[key] = strings.TrimSpace(val)
	}
	return out, errors.Join(errs...)
}

func validHeaderKey(key string) bool {
	if key == "" {
		return false
	}
	for _, c := range key {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}
