package otlpwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	stdlog "log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

func psonoBatch(t testing.TB, n int) []sdklog.Record {
	e := newEmitter(t)
	for i := range n {
		e.emit(traceCtx, resA, "otelaudit", scopeOpts, psonoRecord(i))
	}
	return e.records()
}

func newTestExporter(t *testing.T, rawURL string, opts ...Option) *Exporter {
	t.Helper()
	clearOTLPEnv(t)
	x, err := New(context.Background(), append([]Option{WithEndpointURL(rawURL)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Shutdown(context.Background()) })
	return x
}

func TestExportSends(t *testing.T) {
	records := psonoBatch(t, 20)
	want, err := AppendRequest(nil, records)
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []Compression{NoCompression, GzipCompression} {
		t.Run(map[Compression]string{NoCompression: "plain", GzipCompression: "gzip"}[comp], func(t *testing.T) {
			c := newCapture(t)
			x := newTestExporter(t, c.srv.URL+"/v1/logs", WithCompression(comp), WithHeaders(map[string]string{"Authorization": "Bearer t"}))
			for range 3 { // pooled buffers are reused correctly
				if err := x.Export(context.Background(), records); err != nil {
					t.Fatal(err)
				}
				body, path, h := c.takeOne(t)
				if string(body) != string(want) {
					t.Fatal("the server received other bytes than AppendRequest's")
				}
				if path != "/v1/logs" || h.Get("Content-Type") != "application/x-protobuf" ||
					h.Get("User-Agent") != UserAgent || h.Get("Authorization") != "Bearer t" {
					t.Errorf("path %s, headers %v", path, h)
				}
				if gz := h.Get("Content-Encoding") == "gzip"; gz != (comp == GzipCompression) {
					t.Errorf("Content-Encoding %q with compression %v", h.Get("Content-Encoding"), comp)
				}
			}
			if err := x.Export(context.Background(), nil); err != nil || len(c.take()) != 0 {
				t.Errorf("an empty batch: error %v or a request sent", err)
			}
		})
	}
}

// TestExportConcurrent exports from several goroutines at once (run with
// -race): buffers are not shared between exports.
func TestExportConcurrent(t *testing.T) {
	c := newCapture(t)
	x := newTestExporter(t, c.srv.URL+"/v1/logs", WithCompression(GzipCompression))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		records := psonoBatch(t, 5+i)
		wg.Go(func() {
			for range 5 {
				if err := x.Export(context.Background(), records); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	bodies := c.take()
	if len(bodies) != 40 {
		t.Fatalf("%d requests, want 40", len(bodies))
	}
	for _, b := range bodies {
		req := decode(t, b)
		n := len(req.ResourceLogs[0].ScopeLogs[0].LogRecords)
		if n < 5 || n > 12 {
			t.Errorf("a request of %d records", n)
		}
	}
}

// answer starts a server that answers every request with status, headers
// and body.
func answer(t *testing.T, status int, header map[string]string, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExportResponses(t *testing.T) {
	records := psonoBatch(t, 3)
	partial, err := proto.Marshal(&collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{
		RejectedLogRecords: 2, ErrorMessage: "attribute too long",
	}})
	if err != nil {
		t.Fatal(err)
	}
	emptyPartial, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{}})
	protoType := map[string]string{"Content-Type": "application/x-protobuf"}

	t.Run("200 empty", func(t *testing.T) {
		srv := answer(t, 200, nil, nil)
		if err := newTestExporter(t, srv.URL).Export(context.Background(), records); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("202 with an empty partial success", func(t *testing.T) {
		srv := answer(t, 202, protoType, emptyPartial)
		if err := newTestExporter(t, srv.URL).Export(context.Background(), records); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("partial success", func(t *testing.T) {
		srv := answer(t, 200, protoType, partial)
		err := newTestExporter(t, srv.URL).Export(context.Background(), records)
		var ps *PartialSuccessError
		if !errors.As(err, &ps) || ps.Rejected != 2 || ps.Message != "attribute too long" {
			t.Fatalf("error %v, want a PartialSuccessError of 2 records", err)
		}
		for _, w := range []string{"2 log records rejected", "attribute too long", "3 records"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	})
	t.Run("partial success not protobuf", func(t *testing.T) {
		// otlploghttp reads a partial success only from a protobuf answer.
		srv := answer(t, 200, map[string]string{"Content-Type": "application/json"}, partial)
		if err := newTestExporter(t, srv.URL).Export(context.Background(), records); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("response too large", func(t *testing.T) {
		srv := answer(t, 200, protoType, partial)
		err := newTestExporter(t, srv.URL, WithMaxResponseSize(4)).Export(context.Background(), records)
		if err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
			t.Fatalf("error %v, want the response limit", err)
		}
	})
	for _, status := range []int{429, 502, 503, 504} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := answer(t, status, map[string]string{"Retry-After": "7"}, []byte("busy\n"))
			err := newTestExporter(t, srv.URL).Export(context.Background(), records)
			var re *RetryableError
			if !errors.As(err, &re) || re.StatusCode != status {
				t.Fatalf("error %v, want a RetryableError", err)
			}
			if d, ok := RetryAfter(err); !ok || d != 7*time.Second {
				t.Errorf("RetryAfter = %v, %v; want 7s", d, ok)
			}
			if !strings.Contains(err.Error(), "busy") || !strings.Contains(err.Error(), http.StatusText(status)) {
				t.Errorf("error %q lacks the status or body", err)
			}
		})
	}
	t.Run("400 with a long body", func(t *testing.T) {
		srv := answer(t, 400, nil, []byte(strings.Repeat("bad request ", 200)))
		err := newTestExporter(t, srv.URL).Export(context.Background(), records)
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 400 {
			t.Fatalf("error %v, want a StatusError", err)
		}
		if _, ok := RetryAfter(err); ok {
			t.Error("a 400 is reported retryable")
		}
		if len(err.Error()) > 1000 || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "bad request bad request") {
			t.Errorf("error %q: want the status and a short excerpt", err)
		}
	})
	t.Run("404 hints at the path", func(t *testing.T) {
		srv := answer(t, 404, nil, nil)
		err := newTestExporter(t, srv.URL+"/wrong").Export(context.Background(), records)
		if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as is") || !strings.Contains(err.Error(), "(empty)") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestExportRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	err := newTestExporter(t, u).Export(context.Background(), psonoBatch(t, 1))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want one that wraps ECONNREFUSED", err)
	}
}

func TestExportTooLarge(t *testing.T) {
	c := newCapture(t)
	err := newTestExporter(t, c.srv.URL, WithMaxRequestSize(100)).Export(context.Background(), psonoBatch(t, 2))
	if err == nil || !strings.Contains(err.Error(), "100-byte request limit") {
		t.Fatalf("error %v, want the request limit", err)
	}
	if len(c.take()) != 0 {
		t.Error("a request over the limit was sent")
	}
}

// blocking starts a server that holds every request until the client gives
// up. (The server notices a closed connection only once the body is read.)
func blocking(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExportContext(t *testing.T) {
	records := psonoBatch(t, 1)
	t.Run("ended before", func(t *testing.T) {
		c := newCapture(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := newTestExporter(t, c.srv.URL).Export(ctx, records)
		if !errors.Is(err, context.Canceled) || len(c.take()) != 0 {
			t.Fatalf("error %v, want context.Canceled and nothing sent", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		srv := blocking(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := newTestExporter(t, srv.URL).Export(ctx, records)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want DeadlineExceeded", err)
		}
	})
	t.Run("timeout option", func(t *testing.T) {
		srv := blocking(t)
		err := newTestExporter(t, srv.URL, WithTimeout(100*time.Millisecond)).Export(context.Background(), records)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want DeadlineExceeded", err)
		}
	})
}

func TestShutdown(t *testing.T) {
	c := newCapture(t)
	x := newTestExporter(t, c.srv.URL)
	if err := x.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := x.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	err := x.Export(context.Background(), psonoBatch(t, 1))
	if !errors.Is(err, ErrShutdown) || !errors.Is(err, sdklog.ErrExporterShutdown) {
		t.Fatalf("Export after Shutdown: %v", err)
	}
	if len(c.take()) != 0 {
		t.Error("Export after Shutdown sent a request")
	}
}

func TestExportProxy(t *testing.T) {
	c := newCapture(t)
	proxyURL, _ := url.Parse(c.srv.URL)
	// The proxy receives the request for a host that is never resolved.
	x := newTestExporter(t, "http://collector.invalid:4318/v1/logs", WithProxy(http.ProxyURL(proxyURL)))
	if err := x.Export(context.Background(), psonoBatch(t, 1)); err != nil {
		t.Fatal(err)
	}
	if _, path, _ := c.takeOne(t); path != "/v1/logs" {
		t.Errorf("the proxy got path %q", path)
	}
}

// certPair makes a self-signed certificate for 127.0.0.1 and writes it and
// its key as PEM files under dir.
func certPair(t *testing.T, dir, name string, usage x509.ExtKeyUsage) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

// TestExportTLSFromEnv sends over mutual TLS configured only by the
// certificate variables.
func TestExportTLSFromEnv(t *testing.T) {
	dir := t.TempDir()
	serverPair, serverCert, _ := certPair(t, dir, "server", x509.ExtKeyUsageServerAuth)
	clientPair, clientCert, clientKey := certPair(t, dir, "client", x509.ExtKeyUsageClientAuth)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(clientPair.Leaf)

	plain := newCapture(t) // its handler serves the TLS server too
	srv := httptest.NewUnstartedServer(plain.srv.Config.Handler)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshake below
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	clearOTLPEnv(t)
	t.Setenv(EnvLogsEndpoint, srv.URL+"/v1/logs")
	t.Setenv(EnvCertificate, serverCert)
	t.Setenv(EnvLogsClientCertificate, clientCert)
	t.Setenv(EnvLogsClientKey, clientKey)
	x, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Shutdown(context.Background())
	if err := x.Export(context.Background(), psonoBatch(t, 2)); err != nil {
		t.Fatal(err)
	}
	plain.takeOne(t)

	// Without the client certificate the server refuses the handshake.
	t.Setenv(EnvLogsClientCertificate, "")
	t.Setenv(EnvLogsClientKey, "")
	x2, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Shutdown(context.Background())
	if err := x2.Export(context.Background(), psonoBatch(t, 1)); err == nil {
		t.Fatal("export without a client certificate succeeded")
	}

	// An http:// endpoint with TLS settings is a mistake New reports.
	t.Setenv(EnvLogsEndpoint, "http://127.0.0.1:1/v1/logs")
	if _, err := New(context.Background()); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("New with http:// and a certificate: %v", err)
	}
}
