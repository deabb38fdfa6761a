// Command server is the otelaudit demo: a small in-memory Psono API whose
// every request is written to audit.log as a Psono audit line.
//
//	go run ./examples/server [-settings FILE] [-listen ADDR] [-router servemux]
//
// Without -settings it finds settings.yaml the way Psono does
// ($PSONO_HOME/.psono_server/, ~/.psono_server/, /root/.psono_server/ or
// PSONO_SERVER_SETTING_BASE64) and falls back to examples/server/settings.yaml,
// built into the program, so it starts from any folder; it writes to
// ./audit-log/audit.log, in the working directory. At startup it prints one
// line of what is on (otelaudit.Summary). SIGINT and SIGTERM shut the server
// down gracefully: in-flight requests finish and every record is flushed.
// SIGHUP reopens audit.log after log rotation; it is caught from the first
// moments of the process on (package internal/demo/sighup), so an early one
// never ends it. -h prints the flags.
//
// Exit status: 0 after a graceful shutdown and for -h, 1 when the server
// cannot start or stop cleanly, 2 for a usage error.
//
// This command serves the API with net/http's ServeMux only, so that the
// module of otelaudit holds no router. The same API behind chi, gorilla/mux,
// gin or echo is examples/routers, its own module:
//
//	cd examples/routers && go run . -router chi
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	demoapi "github.com/otelaudit/otelaudit/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	switch {
	case errors.Is(err, demoapi.ErrUsage):
		os.Exit(2) // the usage is printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// fallbackSettings are the settings used when no Psono settings file is
// found: settings.yaml beside this file, built in, so that the demo starts
// from any folder and needs no file of the repository at run time.
//
//go:embed settings.yaml
var fallbackSettings []byte

// fallbackName names fallbackSettings in the summary, -h and errors.
const fallbackName = "examples/server/settings.yaml"

// run serves the demo until ctx is done. When ready is not nil it receives
// the listening address once the server accepts connections.
func run(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	return demoapi.Serve(ctx, args, logw, ready, demoapi.Options{
		Routers:       map[string]demoapi.Wire{"servemux": demoapi.ServeMux},
		UnknownRouter: "this command serves servemux only; the other routers are in examples/routers (its own module): cd examples/routers && go run . -router NAME",
		FallbackName:  fallbackName + " (built in)",
		Fallback:      demoapi.EmbeddedSettings(fallbackName, fallbackSettings),
	})
}
