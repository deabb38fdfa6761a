package collectortest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testproc"
)

// Environment variables that [Start] sets for the collector. The example
// configurations in examples/collector read their addresses and paths from
// them (with defaults for use outside tests).
const (
	// EnvOTLPGRPCEndpoint is the host:port of the OTLP/gRPC receiver.
	EnvOTLPGRPCEndpoint = "OTLP_GRPC_ENDPOINT"
	// EnvOTLPHTTPEndpoint is the host:port of the OTLP/HTTP receiver.
	EnvOTLPHTTPEndpoint = "OTLP_HTTP_ENDPOINT"
	// EnvHealthCheckEndpoint is the host:port of the health_check extension.
	// A configuration run by Start must enable health_check on it: Start
	// waits for it to answer 200 OK.
	EnvHealthCheckEndpoint = "HEALTH_CHECK_ENDPOINT"
	// EnvFileExportPath is the file the file exporter writes to.
	EnvFileExportPath = "FILE_EXPORT_PATH"
	// EnvStorageDir is the directory of the file_storage extension (the
	// filelog receiver keeps its read offsets there).
	EnvStorageDir = "STORAGE_DIR"
)

// Collector is a running (or stopped) otelaudit-collector started by
// [Start]. Its ports, directory and environment stay the same across
// [Collector.Stop] and [Collector.Restart].
type Collector struct {
	// GRPCEndpoint, HTTPEndpoint and HealthEndpoint are the 127.0.0.1:port
	// addresses given to the collector in EnvOTLPGRPCEndpoint,
	// EnvOTLPHTTPEndpoint and EnvHealthCheckEndpoint.
	GRPCEndpoint   string
	HTTPEndpoint   string
	HealthEndpoint string
	// Dir is the collector's own temporary directory: config.yaml,
	// collector.log, the default export file and the storage directory.
	Dir string
	// ConfigPath is the configuration file written from Start's configYAML.
	ConfigPath string
	// FilePath is the file exporter's output (EnvFileExportPath), by default
	// Dir/export.jsonl.
	FilePath string

	t    testing.TB
	proc *testproc.Process
}

// Option configures [Start].
type Option func(*startOptions)

type startOptions struct {
	env     map[string]string
	configs []string
}

// WithEnv sets an environment variable for the collector; it overrides the
// variables that Start sets itself (for example EnvFileExportPath).
func WithEnv(key, value string) Option {
	return func(o *startOptions) { o.env[key] = value }
}

// WithConfig adds a further --config argument, merged over the main
// configuration: a file path or a provider URI such as
// "yaml:processors::batch::timeout: 10ms". Lists are replaced, not merged.
func WithConfig(uri string) Option {
	return func(o *startOptions) { o.configs = append(o.configs, uri) }
}

// WithExporters replaces the exporters of a pipeline (for example "logs"),
// typically to send an example configuration's output to the file exporter
// instead of a backend.
func WithExporters(pipeline string, exporters ...string) Option {
	return WithConfig(fmt.Sprintf("yaml:service::pipelines::%s::exporters: [%s]", pipeline, strings.Join(exporters, ", ")))
}

// Start builds the collector if needed (see [Binary]), writes configYAML to
// a file and runs the collector with it on free loopback ports, and waits
// until its health_check extension reports ready. The collector stops at
// test cleanup; when the test failed, the end of its log is logged.
//
// The configuration must enable the health_check extension on
// ${env:HEALTH_CHECK_ENDPOINT}. Start sets the variables EnvOTLPGRPCEndpoint,
// EnvOTLPHTTPEndpoint, EnvHealthCheckEndpoint, EnvFileExportPath and
// EnvStorageDir, and turns the collector's own metrics off so that
// collectors of parallel tests do not fight over port 8888.
func Start(t testing.TB, configYAML string, opts ...Option) *Collector {
	t.Helper()
	if !strings.Contains(configYAML, EnvHealthCheckEndpoint) {
		t.Fatalf("collectortest: the configuration must enable health_check on ${env:%s}", EnvHealthCheckEndpoint)
	}
	o := startOptions{env: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	bin := Binary(t)

	dir := t.TempDir()
	c := &Collector{
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "config.yaml"),
		FilePath:   filepath.Join(dir, "export.jsonl"),
		t:          t,
	}
	if err := os.WriteFile(c.ConfigPath, []byte(configYAML), 0o644); err != nil {
		t.Fatalf("collectortest: %v", err)
	}
	ports, err := testproc.FreePorts(3)
	if err != nil {
		t.Fatalf("collectortest: %v", err)
	}
	c.GRPCEndpoint = "127.0.0.1:" + strconv.Itoa(ports[0])
	c.HTTPEndpoint = "127.0.0.1:" + strconv.Itoa(ports[1])
	c.HealthEndpoint = "127.0.0.1:" + strconv.Itoa(ports[2])
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o755); err != nil {
		t.Fatalf("collectortest: %v", err)
	}

	vars := map[string]string{
		EnvOTLPGRPCEndpoint:    c.GRPCEndpoint,
		EnvOTLPHTTPEndpoint:    c.HTTPEndpoint,
		EnvHealthCheckEndpoint: c.HealthEndpoint,
		EnvFileExportPath:      c.FilePath,
		EnvStorageDir:          storage,
	}
	for k, v := range o.env {
		vars[k] = v
	}
	c.FilePath = vars[EnvFileExportPath]
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}

	args := []string{"--config", c.ConfigPath}
	for _, uri := range o.configs {
		args = append(args, "--config", uri)
	}
	args = append(args, "--set=service.telemetry.metrics.level=none")

	c.proc = &testproc.Process{
		Path:         bin,
		Args:         args,
		Env:          env,
		Dir:          dir,
		LogPath:      filepath.Join(dir, "collector.log"),
		Ready:        testproc.HTTPReady("http://" + c.HealthEndpoint + "/"),
		ReadyTimeout: time.Minute,
	}
	t.Cleanup(func() {
		if err := c.proc.Stop(30 * time.Second); err != nil {
			t.Errorf("collectortest: stop collector: %v", err)
		}
		if t.Failed() {
			t.Logf("collectortest: end of %s:\n%s", c.proc.LogPath, c.proc.LogTail(80))
		}
	})
	if err := c.proc.Start(t.Context()); err != nil {
		t.Fatalf("collectortest: start collector: %v", err)
	}
	return c
}

// Stop shuts the collector down gracefully (its exporters flush) and waits
// for it to exit. Stopping a stopped collector does nothing.
func (c *Collector) Stop() {
	c.t.Helper()
	if err := c.proc.Stop(30 * time.Second); err != nil {
		c.t.Errorf("collectortest: stop collector: %v", err)
	}
}

// Restart starts a stopped collector again (stopping it first if it is
// running) with the same configuration, environment and ports, and waits
// until it is ready.
func (c *Collector) Restart() {
	c.t.Helper()
	c.Stop()
	if err := c.proc.Start(c.t.Context()); err != nil {
		c.t.Fatalf("collectortest: restart collector: %v", err)
	}
}

// Running reports whether the collector process is running.
func (c *Collector) Running() bool { return c.proc.Running() }

// Log returns the collector's own log output (all starts).
func (c *Collector) Log() string { return c.proc.Log() }

// ReadLogs decodes the records the file exporter has written to FilePath so
// far (see [ReadLogs]).
func (c *Collector) ReadLogs() ([]LogRecord, error) { return ReadLogs(c.FilePath) }

// WaitForLogs polls FilePath until it holds at least n records (see
// [WaitForLogs]).
func (c *Collector) WaitForLogs(n int, timeout time.Duration) []LogRecord {
	c.t.Helper()
	return WaitForLogs(c.t, c.FilePath, n, timeout)
}
