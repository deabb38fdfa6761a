package main

// The measuring side of -peer: which peer modes run, starting their
// servers, reading their statistics and profiles, and the side-by-side
// summary with the target ratios.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// peerModes returns the modes of -peer in report order: bare and otelaudit
// always, the peers o.peer names, and with -otlp-endpoint the +otlp
// variants of otelstd (when named) and otelaudit.
func peerModes(o options) ([]mode, error) {
	if o.only != "" {
		return nil, errors.New("-modes chooses demo modes; -peer names its own")
	}
	want := map[string]bool{}
	for name := range strings.SplitSeq(o.peer, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			for _, p := range peerChoices {
				want[p] = true
			}
		case slices.Contains(peerChoices, name):
			want[name] = true
		default:
			return nil, fmt.Errorf("-peer %q: %q is none of %s, all", o.peer, name, strings.Join(peerChoices, ", "))
		}
	}
	names := []string{modeBare}
	for _, n := range []string{modeOTelHTTP, modeSlog, modeOTelStd} {
		if want[n] {
			names = append(names, n)
		}
	}
	if want[modeOTelStd] && o.otlp != "" {
		names = append(names, modeOTelStdOTLP)
	}
	names = append(names, modeOTelAudit)
	if o.otlp != "" {
		names = append(names, modeOTelAuditOTLP, modeOTelAuditOTLPM)
	}
	modes := make([]mode, len(names))
	for i, n := range names {
		modes[i] = mode{name: n, peer: true}
		if strings.HasSuffix(n, "+otlp") || strings.HasSuffix(n, "+otlp-memory") {
			modes[i].otlp = o.otlp
		}
	}
	return modes, nil
}

// startPeer starts a peer server (auditload itself, o.serverBin, with
// serveArg) in mode m, with its files and output in dir, and waits until it
// listens.
func startPeer(o options, m mode, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &server{mode: m, token: peerToken, paths: []string{peerPath}}
	if f, name := recordFile(m.name); f != "" {
		s.logPath, s.logName = filepath.Join(dir, f), name
	}
	if err := s.start(o, []string{serveArg, "-mode", m.name, "-dir", dir, "-durability", o.durability}, dir); err != nil {
		return nil, fmt.Errorf("peer server (%s): %w", m.name, err)
	}
	s.statsURL, _ = s.proc.LogLine(statsPrefix)
	return s, nil
}

// statsClient reads the peer servers' statistics and profiles; a profile's
// request bounds its own wait.
var statsClient = &http.Client{}

// stats reads the peer server's /stats.
func (s *server) stats() (runtimeStats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st runtimeStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.statsURL+"/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("reading /stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("/stats: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("/stats: %w", err)
	}
	return st, nil
}

// startProfile starts a CPU profile of d on the peer server and returns
// once it runs (windowProfile answers its headers then); finish waits for
// the profile and writes it to path.
func (s *server) startProfile(d time.Duration, path string) (finish func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	url := s.statsURL + "/debug/pprof/profile?seconds=" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("starting the CPU profile: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return func() error {
		defer cancel()
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err == nil && len(data) == 0 {
			err = errors.New("empty profile")
		}
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			return fmt.Errorf("CPU profile %s: %w", path, err)
		}
		return nil
	}, nil
}

// Targets of the ratios (issue 22).
const (
	targetFile = 1.0  // otelaudit added ≤ otelhttp added + slog added
	targetOTLP = 0.40 // otelaudit+otlp(-memory) added ≤ 0.40 × otelstd+otlp added
)

// peerSummary prints the peer modes' medians (with the CPU each adds over
// bare) and the target ratios, per round and as their median.
func peerSummary(out io.Writer, servers []*server, results [][]window) {
	idx := map[string]int{}
	for i, s := range servers {
		idx[s.mode.name] = i
	}
	bare := idx[modeBare] // always there, first
	fmt.Fprintln(out, "\nmedians over the rounds (added: server CPU over bare, per round, then the median):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tserver CPU µs/req\tadded CPU µs/req\tallocs/req\tGCs/1k req\treq/s\tp50 µs\tp99 µs\tRSS first→last MiB\t")
	for i, s := range servers {
		m := summarize(results[i])
		fmt.Fprintf(tw, "%s\t%.2f\t%+.2f\t%.1f\t%.2f\t%.0f\t%.0f\t%.0f\t%.1f→%.1f\t\n", s.mode.name, m.cpuPerReq,
			median(added(results, i, bare)), m.allocsPerReq, m.gcsPer1k, m.rps, m.p50, m.p99,
			results[i][0].rssMiB, results[i][len(results[i])-1].rssMiB)
	}
	tw.Flush()

	// The ratios: the file path always, the OTLP ones when the +otlp
	// modes ran (-otlp-endpoint).
	type ratio struct {
		num    string
		den    []string
		target float64
	}
	ratios := []ratio{{modeOTelAudit, []string{modeOTelHTTP, modeSlog}, targetFile}}
	if _, ok := idx[modeOTelAuditOTLP]; ok {
		ratios = append(ratios, ratio{modeOTelAuditOTLP, []string{modeOTelStdOTLP}, targetOTLP},
			ratio{modeOTelAuditOTLPM, []string{modeOTelStdOTLP}, targetOTLP})
	}

	rounds := len(results[bare])
	fmt.Fprintln(out, "\ntarget ratios of added server CPU per request (each round's interleaved windows; median of the rounds):")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	head := "ratio\ttarget\t"
	for r := range rounds {
		head += fmt.Sprintf("round %d\t", r+1)
	}
	fmt.Fprintln(tw, head+"median\t")
	for _, r := range ratios {
		name := fmt.Sprintf("%s added / %s added", r.num, r.den[0])
		if len(r.den) > 1 {
			name = fmt.Sprintf("%s added / (%s added)", r.num, strings.Join(r.den, " added + "))
		}
		fmt.Fprintf(tw, "%s\t≤ %.2f\t", name, r.target)
		num, ok := idx[r.num]
		var den []int
		for _, n := range r.den {
			i, found := idx[n]
			ok = ok && found
			den = append(den, i)
		}
		if !ok {
			fmt.Fprintf(tw, "needs -peer %s\t\n", strings.Join(r.den, ","))
			continue
		}
		var vals []float64
		for round := range rounds {
			v := roundRatio(results, round, bare, num, den)
			if !math.IsNaN(v) {
				vals = append(vals, v)
			}
			fmt.Fprintf(tw, "%s\t", verdict(v, r.target))
		}
		fmt.Fprintf(tw, "%s\t\n", verdict(median(vals), r.target))
	}
	tw.Flush()
}

// added returns mode i's server CPU per request over bare's, per round.
func added(results [][]window, i, bare int) []float64 {
	v := make([]float64, len(results[i]))
	for r := range v {
		v[r] = results[i][r].cpuPerReq - results[bare][r].cpuPerReq
	}
	return v
}

// roundRatio returns, for one round, the added CPU of mode num over the
// summed added CPU of the den modes; NaN when that sum is not positive
// (noise larger than the costs, in very short windows).
func roundRatio(results [][]window, round, bare, num int, den []int) float64 {
	n := results[num][round].cpuPerReq - results[bare][round].cpuPerReq
	var d float64
	for _, i := range den {
		d += results[i][round].cpuPerReq - results[bare][round].cpuPerReq
	}
	if d <= 0 {
		return math.NaN()
	}
	return n / d
}

// verdict formats a ratio with whether it meets target.
func verdict(v, target float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a (denominator ≤ 0)"
	case v <= target:
		return fmt.Sprintf("%.3f target met", v)
	default:
		return fmt.Sprintf("%.3f not met", v)
	}
}
