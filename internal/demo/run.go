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
	"path/filepath"
	"syscall"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/internal/demo/sighup"
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
// name routers lacks. fallbackSettings is the settings file used when no
// Psono settings file is found. When ready is not nil it receives the
// listening address once the server accepts connections.
func Run(ctx context.Context, args []string, logw io.Writer, ready chan<- string,
	routers map[string]Wire, other, fallbackSettings string) error {
	return Serve(ctx, args, logw, ready, Options{
		Routers: routers, UnknownRouter: other,
		FallbackName: fallbackSettings,
		Fallback:     func() (config.Settings, error) { return config.Load(fallbackSettings) },
	})
}

// Options are what a demo command gives Serve besides its command line.
type Options struct {
	// Routers are the routers -router can name ("servemux" is the default).
	Routers map[string]Wire
	// UnknownRouter is the text of the error for a -router that Routers
	// lacks.
	UnknownRouter string
	// Fallback loads the settings used when -settings names no file and
	// Psono's lookup finds none; FallbackName names them in -h.
	FallbackName string
	Fallback     func() (config.Settings, error)
}

// ErrUsage is wrapped by the errors of Serve and Run about the command
// line (an unknown flag, a flag without its value, an argument, an unknown
// router): the command's exit status 2. Serve has printed the error, and
// for a flag or an argument the usage, to its log writer.
var ErrUsage = errors.New("usage error")

type usageError struct{ error }

func (e usageError) Is(target error) bool { return target == ErrUsage }
func (e usageError) Unwrap() error        { return e.error }

const usageText = `usage: %s [-settings FILE] [-listen ADDR] [flags]

Serves the otelaudit demo, a small in-memory Psono API on ADDR, and writes an
audit line to audit.log for every request. At startup it prints one line of
what is on (see otelaudit.Summary).

The settings are -settings FILE, else Psono's settings file
(PSONO_SERVER_SETTING_BASE64, then settings.yaml or settings.toml in
$PSONO_HOME/.psono_server, ~/.psono_server, /root/.psono_server), else
  %s;
PSONO_<KEY> environment variables override single keys.

SIGINT and SIGTERM shut the server down gracefully (in-flight requests
finish, every record is flushed); SIGHUP reopens audit.log after log
rotation.

flags:
`

// Serve serves the demo until ctx is done. With -h it prints the usage and
// returns nil. When ready is not nil it receives the listening address
// once the server accepts connections.
func Serve(ctx context.Context, args []string, logw io.Writer, ready chan<- string, o Options) error {
	// SIGHUP is caught before anything else: its default action ends the
	// process, and logrotate may send it at any moment. Package sighup
	// caught the ones before this, from the first moments of the process
	// on; one that arrives before the audit log is open is answered by a
	// reopen later.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if sighup.Caught() {
		select {
		case hup <- syscall.SIGHUP:
		default:
		}
	}

	name := "server"
	if len(os.Args) > 0 {
		name = filepath.Base(os.Args[0])
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(logw)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usageText, name, o.FallbackName)
		fs.PrintDefaults()
	}
	settingsPath := fs.String("settings", "", "Psono settings `FILE`, settings.yaml or settings.toml (default: Psono's lookup, then "+o.FallbackName+")")
	listen := fs.String("listen", "127.0.0.1:10200", "listen on `ADDR`")
	shutdownTimeout := fs.Duration("shutdown-timeout", 20*time.Second, "how long a graceful shutdown may take")
	forwardTimeout := fs.Duration("forward-shutdown-timeout", forward.DefaultShutdownTimeout, "how long shutdown waits for OTLP forwarding to deliver queued records")
	routerName := fs.String("router", "servemux", "router serving the API: servemux, chi, gorilla, gin or echo")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q: the demo takes flags only", fs.Arg(0))
		fmt.Fprintln(logw, err)
		fs.Usage()
		return usageError{err}
	}
	wire := o.Routers[*routerName]
	if wire == nil {
		err := fmt.Errorf("-router %s: %s", *routerName, o.UnknownRouter)
		fmt.Fprintln(logw, err)
		return usageError{err}
	}

	settings, err := loadSettings(*settingsPath, o.Fallback)
	if err != nil {
		return err
	}
	auditor, err := otelaudit.New(settings, otelaudit.WithServiceName("otelaudit-demo"),
		otelaudit.WithForwardShutdownTimeout(*forwardTimeout))
	if err != nil {
		return err
	}
	summary, err := otelaudit.Summary(settings)
	if err != nil {
		_ = auditor.Shutdown(context.Background())
		return err
	}
	fmt.Fprintln(logw, "otelaudit:", summary)

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

	// The reopens end before the auditor shuts down: a SIGHUP during the
	// shutdown (still caught, never fatal) must not reopen a closed log.
	stopReopen, reopenDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(reopenDone)
		for {
			select {
			case <-hup:
				if err := auditor.Reopen(); err != nil {
					fmt.Fprintln(logw, "reopening audit log:", err)
				}
			case <-stopReopen:
				return
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
	close(stopReopen)
	<-reopenDone
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

func loadSettings(path string, fallback func() (config.Settings, error)) (config.Settings, error) {
	if path != "" {
		return config.Load(path)
	}
	s, err := config.LoadPsono()
	if errors.Is(err, config.ErrNotFound) {
		return fallback()
	}
	return s, err
}

// EmbeddedSettings returns an Options.Fallback that loads the settings file
// data, built into the program (go:embed) from the file name, exactly as
// config.Load loads a file: PSONO_<KEY> environment variables override its
// keys. The settings (Source) and their errors name it "name (built in)".
// config.Load reads files only, so data is written to a folder of its own
// in os.TempDir for the moment it is read, and removed again.
func EmbeddedSettings(name string, data []byte) func() (config.Settings, error) {
	source := name + " (built in)"
	return func() (config.Settings, error) {
		dir, err := os.MkdirTemp("", "otelaudit-demo-settings-")
		if err != nil {
			return config.Settings{}, fmt.Errorf("%s: %w", source, err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, filepath.Base(name)) // its extension chooses YAML or TOML
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return config.Settings{}, fmt.Errorf("%s: %w", source, err)
		}
		s, err := config.Load(path)
		if err != nil {
			var ce *config.Error
			if errors.As(err, &ce) && ce.Source == path {
				ce.Source = source
			}
			return config.Settings{}, err
		}
		s.Source = source
		return s, nil
	}
}
