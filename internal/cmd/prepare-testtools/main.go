// Command prepare-testtools builds the tools that the integration tests run
// into the test cache, so that the tests themselves start at once: the
// example collector of examples/collector (internal/collectortest) and
// VictoriaLogs (internal/vlogstest). It is what .ci/prepare-collector runs.
//
// Usage, from anywhere inside the module:
//
//	go run ./internal/cmd/prepare-testtools [-collector=true] [-victorialogs=true] [-v]
//
// It prints the paths of the cached binaries. The cache is
// $OTELAUDIT_TEST_CACHE, or otelaudit-test under the user cache directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/vlogstest"
)

func main() {
	collector := flag.Bool("collector", true, "build the example collector")
	victoria := flag.Bool("victorialogs", true, "install VictoriaLogs")
	verbose := flag.Bool("v", false, "show the output of the go commands")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("prepare-testtools: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var out io.Writer
	if *verbose {
		out = os.Stderr
	}
	type tool struct {
		name  string
		on    bool
		build func(context.Context, func(string, ...any), io.Writer) (string, error)
	}
	for _, tl := range []tool{
		{"collector", *collector, collectortest.BuildBinary},
		{"victorialogs", *victoria, vlogstest.BuildBinary},
	} {
		if !tl.on {
			continue
		}
		start := time.Now()
		path, err := tl.build(ctx, log.Printf, out)
		if err != nil {
			log.Fatalf("%s: %v", tl.name, err)
		}
		fmt.Printf("%s: %s (%s)\n", tl.name, path, time.Since(start).Round(time.Millisecond))
	}
}
