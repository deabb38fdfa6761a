// Command server is the otelaudit demo: a small in-memory Psono API whose
// every request is written to audit.log as a Psono audit line.
//
//	go run ./examples/server [-settings FILE] [-listen ADDR]
//
// Without -settings it finds settings.yaml the way Psono does
// ($PSONO_HOME/.psono_server/, ~/.psono_server/, /root/.psono_server/ or
// PSONO_SERVER_SETTING_BASE64) and falls back to examples/server/settings.yaml,
// which writes to ./audit-log/audit.log. SIGINT and SIGTERM shut the server
// down gracefully: in-flight requests finish and every record is flushed.
// SIGHUP reopens audit.log after log rotation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// fallbackSettings is used when no Psono settings file is found.
const fallbackSettings = "examples/server/settings.yaml"

// run serves the demo until ctx is done. When ready is not nil it receives
// the listening address once the server accepts connections.
func run(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(logw)
	settingsPath := fs.String("settings", "", "Psono settings.yaml (default: Psono's lookup, then "+fallbackSettings+")")
	listen := fs.String("listen", "127.0.0.1:10200", "address to listen on")
	shutdownTimeout := fs.Duration("shutdown-timeout", 20*time.Second, "how long a graceful shutdown may take")
	forwardTimeout := fs.Duration("forward-shutdown-timeout", forward.DefaultShutdownTimeout, "how long shutdown waits for OTLP forwarding to deliver queued records")
	if err := fs.Parse(args); err != nil {
		return err
	}

	settings, err := loadSettings(*settingsPath)
	if err != nil {
		return err
	}
	auditor, err := otelaudit.New(settings, otelaudit.WithServiceName("otelaudit-demo"),
		otelaudit.WithForwardShutdownTimeout(*forwardTimeout))
	if err != nil {
		return err
	}
	if settings.Enabled {
		fmt.Fprintf(logw, "audit log: %s (settings: %s)\n", settings.LogPath(), settings.Source)
		if forward.Configured() {
			fmt.Fprintln(logw, "forwarding audit records over OTLP (OTEL_EXPORTER_OTLP_* environment)")
		}
	} else {
		fmt.Fprintf(logw, "audit log: off (LOGGING_AUDIT is not True in %s)\n", settings.Source)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		_ = auditor.Shutdown(context.Background())
		return err
	}
	srv := &http.Server{
		Handler:           auditor.Handler(newAPI().routes()),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(logw, "listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := auditor.Reopen(); err != nil {
				fmt.Fprintln(logw, "reopening audit log:", err)
			}
		}
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutting down: %w", serr))
	}
	if aerr := auditor.Shutdown(sctx); aerr != nil {
		err = errors.Join(err, fmt.Errorf("flushing audit log: %w", aerr))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func loadSettings(path string) (config.Settings, error) {
	if path != "" {
		return config.Load(path)
	}
	s, err := config.LoadPsono()
	if errors.Is(err, config.ErrNotFound) {
		return config.Load(fallbackSettings)
	}
	return s, err
}
