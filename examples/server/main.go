// Command server is the otelaudit demo: a small in-memory Psono API whose
// every request is written to audit.log as a Psono audit line.
//
//	go run ./examples/server [-settings FILE] [-listen ADDR] [-router servemux]
//
// Without -settings it finds settings.yaml the way Psono does
// ($PSONO_HOME/.psono_server/, ~/.psono_server/, /root/.psono_server/ or
// PSONO_SERVER_SETTING_BASE64) and falls back to examples/server/settings.yaml,
// which writes to ./audit-log/audit.log. SIGINT and SIGTERM shut the server
// down gracefully: in-flight requests finish and every record is flushed.
// SIGHUP reopens audit.log after log rotation.
//
// This command serves the API with net/http's ServeMux only, so that the
// module of otelaudit holds no router. The same API behind chi, gorilla/mux,
// gin or echo is examples/routers, its own module:
//
//	cd examples/routers && go run . -router chi
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	demoapi "github.com/otelaudit/otelaudit/internal/demo"
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
	return demoapi.Run(ctx, args, logw, ready, map[string]demoapi.Wire{"servemux": demoapi.ServeMux},
		"this command serves servemux only; the other routers are in examples/routers (its own module): cd examples/routers && go run . -router NAME",
		fallbackSettings)
}
