// Command auditload measures what audit logging costs: the demo server
// with audit off and on, or, with -peer, otelaudit side by side with what a
// Go team would use instead, on one small endpoint.
//
//	go run ./internal/cmd/auditload [-clients 32] [-duration 3s] [-rounds 5]
//	                       [-durability write] [-otlp-endpoint URL]
//	                       [-peer slog,otelstd,otelhttp,otelaudit|all] [-profile DIR]
//
// Without -peer it builds examples/server, starts one copy per mode as a separate process
// on loopback — "off" (LOGGING_AUDIT: False), "on" (audit.log) and, with
// -otlp-endpoint, "on+otlp" (audit.log and OTLP forwarding to that
// collector through the default durable spool) and "on+otlp-memory" (the
// same through the in-memory queue) — and drives each in turn with N concurrent keep-alive clients
// replaying the authenticated part of Psono's documented session (read a
// datastore, list datastores, read user status, read info). Every mode keeps
// the same otelhttp instrumentation and tracing, so the difference is the
// audit path alone. -modes runs some of these modes only.
//
// With -peer it measures peer modes instead, each a peer server: auditload's
// own binary run again (a hidden first argument, -serve-peer), one process
// per mode, all serving the same endpoint, GET /datastore/{datastore_id}/
// (a JSON document of about 100 bytes; the "Authorization: Token ..."
// header names the user), to the same clients. The modes:
//
//   - bare: the endpoint on a ServeMux, nothing else; the baseline, always.
//   - otelhttp: otelhttp alone around it, configured as otelaudit configures
//     it (an SDK tracer provider that samples nothing; the meter provider,
//     no-op, is every mode's).
//   - slog: no otelhttp; a status-recording writer and one log/slog JSON line
//     per request with the audit line's fields, to a file opened O_APPEND,
//     unbuffered.
//   - otelstd: otelhttp as above and one OpenTelemetry log record per request
//     through the logs API (the same fields as attributes) into an sdk/log
//     LoggerProvider with a SimpleProcessor and the stdoutlog exporter
//     writing to a file; otelstd+otlp adds a BatchProcessor with otlploghttp
//     to -otlp-endpoint.
//   - otelaudit: otelaudit.New (audit.log at -durability) and its Handler, the
//     handler naming the user with the instrument setters; always.
//     otelaudit+otlp and otelaudit+otlp-memory add OTLP forwarding to
//     -otlp-endpoint, through the durable spool or the in-memory queue.
//
// -peer names the peers (slog, otelstd, otelhttp, otelaudit, or all); bare
// and otelaudit always run, and the +otlp modes with -otlp-endpoint. Each
// peer server also listens on a second loopback port, not audited, with
// net/http/pprof and /stats (the runtime's allocations and GC cycles), read
// before and after each window: the report adds allocations per request and
// GCs per 1000 requests. -profile DIR writes, for every mode, a CPU profile
// of one whole window of the last round to DIR/MODE.pprof (go tool pprof
// -top DIR/otelaudit.pprof). The summary gives, per mode, the median server
// CPU per request and the CPU it adds over bare, and the target ratios of
// added CPU, per round (the round's interleaved windows) and as their
// median, each marked "target met" or "not met": otelaudit / (otelhttp +
// slog) ≤ 1.0 and, with OTLP, otelaudit+otlp / otelstd+otlp and
// otelaudit+otlp-memory / otelstd+otlp ≤ 0.40. Every forwarding mode
// sends batches of at most 512 records (the SDK's BatchProcessor, the
// queue and the spool alike); OTEL_EXPORTER_OTLP_COMPRESSION=gzip in
// auditload's environment compresses them all.
//
// Windows of the modes are interleaved (the order rotates every round) so
// that a machine busy with something else harms all modes alike. Each window
// reports requests per second, latency percentiles, and the server's CPU
// time per request (user+system, from /proc/<pid>/stat) and resident memory.
// The summary gives medians over the rounds and the ratios to "off" (or,
// with -peer, the ratios above). At the end every server is shut down
// gracefully (SIGTERM: it flushes its pipeline) and the lines each wrote
// (audit.log; the slog file and the stdoutlog file of the peers) are
// counted against the requests that server answered; a mismatch is an
// error.
//
// The clients run on the same machine: on a small one they compete with the
// server for CPU, so requests per second understate the server; the CPU per
// request is the figure that isolates the server's own cost.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/otelaudit/otelaudit/internal/testproc"
)

// main runs auditload, or a peer server when the first argument is
// serveArg.
func main() {
	if len(os.Args) > 1 && os.Args[1] == serveArg {
		os.Exit(serveMain(os.Args[2:]))
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditload:", err)
		os.Exit(1)
	}
}

type options struct {
	clients    int
	duration   time.Duration
	warmup     time.Duration
	rounds     int
	durability string
	otlp       string
	serverBin  string
	keep       bool
	only       string
	rate       float64
	peer       string
	profile    string
}

// run parses the flags, runs the measurement they ask for and writes the
// report to out.
func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("auditload", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.clients, "clients", 32, "concurrent keep-alive clients")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "length of each measured window")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before the first round, per server")
	fs.Float64Var(&o.rate, "rate", 0, "total requests per second, spread over the clients (0: each client sends as fast as it is answered)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; each measures every mode once")
	fs.StringVar(&o.durability, "durability", "write", "LOGGING_AUDIT_DURABILITY of the audited modes: write, fsync or buffered")
	fs.StringVar(&o.otlp, "otlp-endpoint", "", "also measure forwarding to the OTLP/HTTP collector at this URL (e.g. http://127.0.0.1:4318)")
	fs.StringVar(&o.serverBin, "server", "", "demo server binary (default: go build ./examples/server)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (audit logs, settings)")
	fs.StringVar(&o.only, "modes", "", "comma-separated modes to run (default: off,on, and on+otlp with -otlp-endpoint), for profiling one")
	fs.StringVar(&o.peer, "peer", "", "compare otelaudit with these peers on one small JSON endpoint instead of measuring the demo: comma-separated among "+strings.Join(peerChoices, ", ")+", or all")
	fs.StringVar(&o.profile, "profile", "", "with -peer: write a CPU profile of each mode over one window of the last round to `DIR`/MODE.pprof")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: auditload takes flags only", fs.Arg(0))
	}
	if o.clients < 1 || o.rounds < 1 || o.duration <= 0 {
		return errors.New("-clients, -rounds and -duration must be positive")
	}

	var modes []mode
	if o.peer != "" {
		var err error
		if modes, err = peerModes(o); err != nil {
			return err
		}
		if o.profile != "" {
			if err := os.MkdirAll(o.profile, 0o755); err != nil {
				return fmt.Errorf("-profile: %w", err)
			}
		}
	} else {
		if o.profile != "" {
			return errors.New("-profile needs -peer: the demo server serves no profiles")
		}
		modes = []mode{{name: "off"}, {name: "on", audit: true}}
		if o.otlp != "" {
			modes = append(modes, mode{name: "on+otlp", audit: true, otlp: o.otlp},
				mode{name: "on+otlp-memory", audit: true, otlp: o.otlp, queue: "memory"})
		}
		if o.only != "" {
			want := strings.Split(o.only, ",")
			modes = slices.DeleteFunc(modes, func(m mode) bool { return !slices.Contains(want, m.name) })
			if len(modes) == 0 {
				return fmt.Errorf("-modes %q names none of off, on, on+otlp, on+otlp-memory (the last two need -otlp-endpoint)", o.only)
			}
		}
	}
	dir, err := os.MkdirTemp("", "auditload-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "working folder:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.peer != "" {
		// The peer servers are this program, run again (serveArg).
		if o.serverBin, err = os.Executable(); err != nil {
			return fmt.Errorf("finding auditload's own binary for the peer servers: %w", err)
		}
	} else if o.serverBin == "" {
		o.serverBin = filepath.Join(dir, "server")
		build := exec.Command("go", "build", "-o", o.serverBin, "./examples/server")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building the demo (run auditload from the module root): %w", err)
		}
	}

	var servers []*server
	defer func() {
		for _, s := range servers {
			_ = s.proc.Stop(5 * time.Second) // nothing to do when stopped already
		}
	}()
	for _, m := range modes {
		start := startServer
		if m.peer {
			start = startPeer
		}
		s, err := start(o, m, filepath.Join(dir, m.name))
		if err != nil {
			return err
		}
		servers = append(servers, s)
	}
	load := "closed loop"
	if o.rate > 0 {
		load = fmt.Sprintf("%.0f req/s", o.rate)
	}
	if o.peer != "" {
		fmt.Fprintf(out, "peer servers (%s -serve-peer), GET /datastore/{datastore_id}/, %d clients, %s, %s windows, %d rounds, durability %s, CPUs: %d\n",
			o.serverBin, o.clients, load, o.duration, o.rounds, o.durability, runtime.NumCPU())
	} else {
		fmt.Fprintf(out, "demo server %s, %d clients, %s, %s windows, %d rounds, durability %s, CPUs: %d\n",
			o.serverBin, o.clients, load, o.duration, o.rounds, o.durability, runtime.NumCPU())
	}

	for _, s := range servers {
		if !s.mode.peer {
			if err := s.login(); err != nil {
				return fmt.Errorf("%s: %w", s.mode.name, err)
			}
		}
		if _, err := s.load(o.clients, 0, o.warmup, ""); err != nil { // warm up: connections, caches, heap
			return fmt.Errorf("%s: %w", s.mode.name, err)
		}
	}

	results, err := measure(o, servers, out)
	if err != nil {
		return err
	}
	if o.peer != "" {
		peerSummary(out, servers, results)
	} else {
		demoSummary(out, servers, results)
	}
	fmt.Fprintln(out)
	return checkRecords(out, servers)
}

// measure runs the rounds: each measures every server once, in an order
// that rotates every round, and prints each window. results[i] holds the
// windows of servers[i], one per round. With o.profile, each window of the
// last round is also profiled.
func measure(o options, servers []*server, out io.Writer) (results [][]window, err error) {
	stats := servers[0].statsURL != ""
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "round\tmode\treq/s\tp50 µs\tp90 µs\tp99 µs\tp99.9 µs\tserver CPU µs/req\tsyscalls/req\tserver RSS MiB\terrors\t"
	if stats {
		head += "allocs/req\tGCs/1k req\t"
	}
	fmt.Fprintln(tw, head)
	results = make([][]window, len(servers))
	for round := range o.rounds {
		for i := range servers {
			k := (i + round) % len(servers) // rotate the order
			profile := ""
			if o.profile != "" && round == o.rounds-1 {
				profile = filepath.Join(o.profile, servers[k].mode.name+".pprof")
			}
			w, err := servers[k].load(o.clients, o.rate, o.duration, profile)
			if err != nil {
				tw.Flush()
				return nil, fmt.Errorf("%s: %w", servers[k].mode.name, err)
			}
			results[k] = append(results[k], w)
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t", round+1, servers[k].mode.name,
				w.rps, w.p50, w.p90, w.p99, w.p999, w.cpuPerReq, w.syscalls, w.rssMiB, w.errors)
			if stats {
				fmt.Fprintf(tw, "%.1f\t%.2f\t", w.allocsPerReq, w.gcsPer1k)
			}
			fmt.Fprintln(tw)
		}
	}
	tw.Flush()
	if o.profile != "" {
		fmt.Fprintf(out, "CPU profiles (one window of the last round each): %s/MODE.pprof; go tool pprof -top FILE\n", o.profile)
	}
	return results, nil
}

// demoSummary prints the demo modes' medians and their ratios to the first
// mode ("off").
func demoSummary(out io.Writer, servers []*server, results [][]window) {
	fmt.Fprintln(out, "\nmedians over the rounds (ratio to off):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\treq/s\tp50 µs\tp99 µs\tserver CPU µs/req\tCPU ratio\tthroughput ratio\tRSS first→last MiB\t")
	base := summarize(results[0])
	for i, s := range servers {
		m := summarize(results[i])
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.3f\t%.3f\t%.1f→%.1f\t\n", s.mode.name, m.rps, m.p50, m.p99, m.cpuPerReq,
			m.cpuPerReq/base.cpuPerReq, m.rps/base.rps, results[i][0].rssMiB, results[i][len(results[i])-1].rssMiB)
	}
	tw.Flush()
}

// checkRecords stops every server gracefully and counts the lines of the
// file each audited one wrote against the requests it answered; a
// mismatch, or a server that did not stop cleanly, is an error.
func checkRecords(out io.Writer, servers []*server) error {
	var errs []error
	for _, s := range servers {
		if err := s.stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.mode.name, err))
			continue
		}
		if s.logPath == "" {
			continue
		}
		n, err := countLines(s.logPath)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		verdict := "every answered request has its line"
		if n != s.answered.Load() {
			verdict = "MISMATCH"
			errs = append(errs, fmt.Errorf("%s: %s has %d lines for %d answered requests", s.mode.name, s.logName, n, s.answered.Load()))
		}
		fmt.Fprintf(out, "%s: %d requests answered, %d lines in %s: %s\n", s.mode.name, s.answered.Load(), n, s.logName, verdict)
	}
	return errors.Join(errs...)
}

// listening starts the line with which the demo announces its address.
const listening = "listening on "

// mode is one configuration of the demo, or one peer mode (see peers.go).
type mode struct {
	name  string
	audit bool
	otlp  string
	queue string // LOGGING_AUDIT_FORWARD_QUEUE; "" is the default, the spool
	peer  bool   // a peer server (serve.go), not the demo
}

// server is one running demo or peer server process.
type server struct {
	mode     mode
	proc     *testproc.Process
	base     string
	statsURL string // the peer server's unaudited port; "" for the demo
	logPath  string // the file of one line per request; "" for none
	logName  string // how the report names logPath
	token    string
	paths    []string // the requests of the load, in turn
	client   *http.Client
	answered atomic.Int64 // responses received, all requests included
}

// childEnv returns the environment of a server process: this one's without
// OTEL_ and PSONO_ variables, and with OTLP/HTTP to otlp when it is set,
// compressed as OTEL_EXPORTER_OTLP_COMPRESSION in this one's environment
// says (gzip or none), so that every forwarding mode compresses alike.
func childEnv(otlp string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "PSONO_") {
			env = append(env, kv)
		}
	}
	if otlp != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
		if c := os.Getenv("OTEL_EXPORTER_OTLP_COMPRESSION"); c != "" {
			env = append(env, "OTEL_EXPORTER_OTLP_COMPRESSION="+c)
		}
	}
	return env
}

// newClient returns the HTTP client of a server's load.
func newClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: clients * 2,
		MaxConnsPerHost:     clients * 2,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
	}}
}

// startServer starts the demo server in mode m, with its settings, audit
// log and output in dir, and waits until it listens.
func startServer(o options, m mode, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logDir := filepath.Join(dir, "audit-log")
	settings := fmt.Sprintf("LOGGING_AUDIT: %s\nLOGGING_AUDIT_FOLDER: %s\nLOGGING_AUDIT_DURABILITY: %s\n",
		map[bool]string{true: "True", false: "False"}[m.audit], logDir, o.durability)
	if m.queue != "" {
		settings += "LOGGING_AUDIT_FORWARD_QUEUE: " + m.queue + "\n"
	}
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte(settings), 0o600); err != nil {
		return nil, err
	}
	s := &server{mode: m, paths: demoPaths}
	if m.audit {
		s.logPath, s.logName = filepath.Join(logDir, "audit.log"), "audit.log"
	}
	if err := s.start(o, []string{"-settings", settingsPath, "-listen", "127.0.0.1:0"}, dir); err != nil {
		return nil, fmt.Errorf("demo server (%s): %w", m.name, err)
	}
	return s, nil
}

// start runs o.serverBin with args and the environment of s's mode, its
// output in dir/server.log, waits until it announces its address, and gives
// s its base URL and client.
func (s *server) start(o options, args []string, dir string) error {
	s.proc = &testproc.Process{
		Path:    o.serverBin,
		Args:    args,
		Env:     childEnv(s.mode.otlp),
		LogPath: filepath.Join(dir, "server.log"),
		// Not an HTTP check: the request would add a record.
		Ready: func(context.Context) error {
			if _, ok := s.proc.LogLine(listening); !ok {
				return errors.New("not listening yet")
			}
			return nil
		},
		ReadyTimeout: 30 * time.Second,
	}
	if err := s.proc.Start(context.Background()); err != nil {
		return err
	}
	s.base, _ = s.proc.LogLine(listening)
	s.client = newClient(o.clients)
	return nil
}

// login runs the documented session's login and activation, and keeps the
// token for the load.
func (s *server) login() error {
	var tok struct {
		Token string `json:"token"`
	}
	body, err := s.do("POST", "/authentication/login/", `{"username":"demo2@example.com","password":"demo2"}`, http.StatusOK)
	if err == nil {
		err = json.Unmarshal(body, &tok)
	}
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.token = tok.Token
	if _, err := s.do("POST", "/authentication/activate-token/", "", http.StatusOK); err != nil {
		return fmt.Errorf("activating the token: %w", err)
	}
	return nil
}

// do sends one request of the demo's session and returns its body; a
// status other than want is an error.
func (s *server) do(method, path, body string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Token "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.answered.Add(1)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	return b, err
}

// The requests of the load, in turn: the authenticated reads of Psono's
// documented session.
var demoPaths = []string{
	"/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/",
	"/datastore/",
	"/user/status/",
	"/info/",
}

// window is what one measured window gave.
type window struct {
	rps, p50, p90, p99, p999 float64 // latencies in µs
	cpuPerReq                float64 // µs of server CPU per request
	rssMiB                   float64
	syscalls                 float64 // read and write system calls per request
	errors                   int64
	allocsPerReq             float64 // heap allocations per request (peer servers only)
	gcsPer1k                 float64 // GC cycles per 1000 requests (peer servers only)
}

// load runs clients concurrent request loops for d and measures them. With
// rate > 0 the clients together send rate requests per second, each on its
// own schedule (a request that is late is sent at once, not skipped). A
// peer server's runtime statistics are read before and after the window;
// with profile, a CPU profile of the server over the window is written to
// that file. Errors are those of the statistics and the profile; failed
// requests are counted in the window.
func (s *server) load(clients int, rate float64, d time.Duration, profile string) (window, error) {
	var (
		wg      sync.WaitGroup
		errs    atomic.Int64
		lats    = make([][]time.Duration, clients)
		stop    atomic.Bool
		started = make(chan struct{})
	)
	for c := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<16)
			reqs := make([]*http.Request, len(s.paths))
			for i, p := range s.paths {
				reqs[i], _ = http.NewRequest("GET", s.base+p, nil)
				reqs[i].Header.Set("Authorization", "Token "+s.token)
			}
			<-started
			var interval time.Duration
			if rate > 0 {
				interval = time.Duration(float64(clients) / rate * float64(time.Second))
			}
			next := time.Now().Add(time.Duration(c) * interval / time.Duration(clients))
			for i := c; !stop.Load(); i++ {
				if interval > 0 {
					time.Sleep(time.Until(next)) // pacing, not synchronisation
					next = next.Add(interval)
				}
				t0 := time.Now()
				resp, err := s.client.Do(reqs[i%len(reqs)])
				if err != nil {
					errs.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				s.answered.Add(1)
				if err != nil || resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			lats[c] = lat
		})
	}
	var st0, st1 runtimeStats
	var finishProfile func() error
	var err error
	if s.statsURL != "" {
		st0, err = s.stats()
		if err == nil && profile != "" {
			finishProfile, err = s.startProfile(d, profile)
		}
	}
	if err != nil {
		stop.Store(true)
		close(started)
		wg.Wait()
		return window{}, err
	}
	pid := s.proc.Pid()
	cpu0, _ := procCPU(pid)
	io0 := procSyscalls(pid)
	t0 := time.Now()
	close(started)
	time.AfterFunc(d, func() { stop.Store(true) })
	wg.Wait()
	elapsed := time.Since(t0)
	cpu1, _ := procCPU(pid)
	io1 := procSyscalls(pid)
	if s.statsURL != "" {
		st1, err = s.stats()
		if finishProfile != nil {
			err = errors.Join(err, finishProfile())
		}
	}

	all := slices.Concat(lats...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / 1e3
	}
	n := float64(len(all))
	w := window{rps: n / elapsed.Seconds(), p50: pct(0.50), p90: pct(0.90), p99: pct(0.99), p999: pct(0.999), errors: errs.Load()}
	if n > 0 {
		w.cpuPerReq = float64(cpu1-cpu0) / 1e3 / n
		w.syscalls = float64(io1-io0) / n
		w.allocsPerReq = float64(st1.Mallocs-st0.Mallocs) / n
		w.gcsPer1k = float64(st1.NumGC-st0.NumGC) * 1000 / n
	}
	w.rssMiB = procRSS(pid)
	return w, err
}

// stop shuts the server down gracefully (SIGTERM) and waits for it; it is
// killed when it has not exited after 30s.
func (s *server) stop() error {
	s.client.CloseIdleConnections()
	if err := s.proc.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("%w\n%s", err, s.proc.LogTail(20))
	}
	return nil
}

// summary holds the medians of a mode's windows.
type summary struct{ rps, p50, p99, cpuPerReq, allocsPerReq, gcsPer1k float64 }

// summarize returns the medians of ws.
func summarize(ws []window) summary {
	med := func(f func(window) float64) float64 {
		v := make([]float64, len(ws))
		for i, w := range ws {
			v[i] = f(w)
		}
		return median(v)
	}
	return summary{
		rps:          med(func(w window) float64 { return w.rps }),
		p50:          med(func(w window) float64 { return w.p50 }),
		p99:          med(func(w window) float64 { return w.p99 }),
		cpuPerReq:    med(func(w window) float64 { return w.cpuPerReq }),
		allocsPerReq: med(func(w window) float64 { return w.allocsPerReq }),
		gcsPer1k:     med(func(w window) float64 { return w.gcsPer1k }),
	}
}

// median returns the median of v (sorting v), NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// procCPU returns the user+system CPU time, in nanoseconds, that process pid
// (all its threads) has used, from /proc/<pid>/stat.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: the fields after it
	// start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (utime + stime) * int64(time.Second) / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// procSyscalls returns how many read and write system calls process pid
// has made (syscr + syscw of /proc/<pid>/io), or 0 when unknown.
func procSyscalls(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	var n int64
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && (k == "syscr" || k == "syscw") {
			c, _ := strconv.ParseInt(v, 10, 64)
			n += c
		}
	}
	return n
}

// procRSS returns the resident memory of process pid in MiB.
func procRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// countLines returns how many lines (newlines) the file at path holds.
func countLines(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return int64(bytes.Count(b, []byte{'\n'})), nil
}
