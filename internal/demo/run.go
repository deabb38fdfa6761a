package demo

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

// A Wire serves api through a router wired with its adapter, wrapped in the
// auditor's handler (the audit handler outermost).
type Wire func(api *API, auditor *otelaudit.Auditor) http.Handler

// ServeMux is the Wire of the ServeMux the auditor wraps directly.
func ServeMux(api *API, auditor *otelaudit.Auditor) http.Handler {
	return auditor.Handler(api.ServeMux())
}

// Run serves the demo until ctx is done, with the router -router names
// among routers (default "servemux"); other is the text of the error for a
// name routers lacks. fallbackSettings is used when no Psono settings file
// is found. When ready is not nil it receives the listening address once
// the server accepts connections.
func Run(ctx context.Context, args []string, logw io.Writer, ready chan<- string,
	routers map[string]Wire, other, fallbackSettings string) error {
	// SIGHUP is caught before anything else: its default action ends the
	// process, and logrotate may send it at any moment. One that arrives
	// before the audit log is open is answered by a reopen later.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(logw)
	settingsPath := fs.String("settings", "", "Psono settings.yaml (default: Psono's lookup, then "+fallbackSettings+")")
	listen := fs.String("listen", "127.0.0.1:10200", "address to listen on")
	shutdownTimeout := fs.Duration("shutdown-timeout", 20*time.Second, "how long a graceful shutdown may take")
	forwardTimeout := fs.Duration("forward-shutdown-timeout", forward.DefaultShutdownTimeout, "how long shutdown waits for OTLP forwarding to deliver queued records")
	routerName := fs.String("router", "servemux", "router serving the API: servemux, chi, gorilla, gin or echo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	wire := routers[*routerName]
	if wire == nil {
		return fmt.Errorf("-router %s: %s", *routerName, other)
	}

	settings, err := loadSettings(*settingsPath, fallbackSettings)
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
		Handler:           wire(NewAPI(), auditor),
		ReadHeaderTimeout: 10 * time.Second,
		// "OPTIONS *" reaches the audited handler (and gets its line)
		// instead of net/http's own answer.
		DisableGeneralOptionsHandler: true,
	}
	fmt.Fprintf(logw, "router: %s\n", *routerName)
	fmt.Fprintf(logw, "listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}

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
	// The auditor gets a bounded context of its own: a drain that used up
	// the server's must not cut the forwarder's (audit.log is written
	// whatever the context says).
	actx, acancel := context.WithTimeout(context.Background(), *forwardTimeout+time.Second)
	defer acancel()
	if aerr := auditor.Shutdown(actx); aerr != nil {
		err = errors.Join(err, fmt.Errorf("flushing audit log: %w", aerr))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func loadSettings(path, fallbackSettings string) (config.Settings, error) {
	if path != "" {
		return config.Load(path)
	}
	s, err := config.LoadPsono()
	if errors.Is(err, config.ErrNotFound) {
		return config.Load(fallbackSettings)
	}
	return s, err
}
