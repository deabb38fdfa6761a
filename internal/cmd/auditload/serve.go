package main

// The serving side of -peer: auditload runs itself again, with serveArg
// first, as one peer server per mode.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	runpprof "runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric/noop"
)

// serveArg, as the first argument, makes auditload a peer server (hidden:
// auditload passes it to itself).
const serveArg = "-serve-peer"

// statsPrefix starts the line with which a peer server announces its
// second, unaudited port (before the listening line).
const statsPrefix = "stats on "

// serveMain runs a peer server until SIGINT or SIGTERM and returns the exit
// status. main and TestMain call it when the first argument is serveArg.
func serveMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := servePeer(ctx, args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditload peer server:", err)
		return 1
	}
	return 0
}

// servePeer serves a peer mode on 127.0.0.1 until ctx is done, then shuts
// down gracefully: the HTTP server first (in-flight requests finish), then
// the mode's pipeline (every record flushed). It announces the stats port
// (statsPrefix) and then the audited one (listening) on out.
func servePeer(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("auditload "+serveArg, flag.ContinueOnError)
	mode := fs.String("mode", "", "peer mode to serve")
	dir := fs.String("dir", "", "folder of the mode's files")
	durability := fs.String("durability", "write", "LOGGING_AUDIT_DURABILITY of the otelaudit modes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	// The meter provider of every mode, otelhttp's and otelaudit's
	// (both default to the global one): no-op.
	otel.SetMeterProvider(noop.NewMeterProvider())
	h, shutdown, err := peerHandler(*mode, *dir, *durability)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return errors.Join(err, shutdown(context.Background()))
	}
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return errors.Join(err, shutdown(context.Background()))
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stats := &http.Server{Handler: statsMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = stats.Serve(sln) }() // ends with stats.Close
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(out, "mode: %s\n%shttp://%s\n%shttp://%s\n", *mode, statsPrefix, sln.Addr(), listening, ln.Addr())

	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	err = errors.Join(err, srv.Shutdown(sctx))
	err = errors.Join(err, shutdown(sctx))
	return errors.Join(err, stats.Close())
}

// statsMux serves the unaudited port: net/http/pprof under /debug/pprof/
// (its profile endpoint replaced by windowProfile) and /stats.
func statsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", windowProfile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/stats", serveStats)
	return mux
}

// runtimeStats is the document of /stats: cumulative counts of the process.
type runtimeStats struct {
	Mallocs uint64 `json:"mallocs"` // heap objects allocated (MemStats.Mallocs)
	NumGC   uint64 `json:"num_gc"`  // completed GC cycles (MemStats.NumGC)
}

// The runtime/metrics of runtimeStats: allocations, tiny ones counted
// apart, and GC cycles.
var statsMetrics = []string{"/gc/heap/allocs:objects", "/gc/heap/tiny/allocs:objects", "/gc/cycles/total:gc-cycles"}

// readStats returns the process's runtimeStats, from runtime/metrics (no
// stop of the world), or from MemStats where a metric is missing.
func readStats() runtimeStats {
	s := make([]metrics.Sample, len(statsMetrics))
	for i, name := range statsMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindUint64 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return runtimeStats{Mallocs: ms.Mallocs, NumGC: uint64(ms.NumGC)}
		}
	}
	return runtimeStats{Mallocs: s[0].Value.Uint64() + s[1].Value.Uint64(), NumGC: s[2].Value.Uint64()}
}

// serveStats answers /stats with runtimeStats as JSON.
func serveStats(w http.ResponseWriter, _ *http.Request) {
	st := readStats() // first: what the answer allocates is not counted
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// windowProfile is net/http/pprof's CPU profile, ?seconds=N, with two
// differences for measuring a window: N may be fractional (0.5), and the
// response's status and headers are sent as soon as the profile has
// started, so that the client starts its window then; the profile itself
// follows when it ends. go tool pprof reads it as the usual one.
func windowProfile(w http.ResponseWriter, r *http.Request) {
	sec, err := strconv.ParseFloat(r.FormValue("seconds"), 64)
	if err != nil || sec <= 0 {
		sec = 30 // net/http/pprof's default
	}
	var buf bytes.Buffer
	if err := runpprof.StartCPUProfile(&buf); err != nil {
		http.Error(w, "could not start the CPU profile: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
	t := time.NewTimer(time.Duration(sec * float64(time.Second)))
	select {
	case <-t.C: // the profile's length
	case <-r.Context().Done():
	}
	t.Stop()
	runpprof.StopCPUProfile()
	_, _ = w.Write(buf.Bytes())
}
