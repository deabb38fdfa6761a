package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
)

const gapsUsage = `usage: otelaudit gaps [-json] [-logs FILE]... [-origin NAME] SOURCE...

Reads what a backend holds of the forwarded audit records and says, per
origin (the stream: host and audit.log's folder, or LOGGING_AUDIT_SEAL_LOG_NAME),
which positions arrived, which are missing (holes) and which arrived more
than once (duplicates). A SOURCE is
  - a file of the collector's file exporter (OTLP JSON, one request a line);
  - a file or an http(s) URL of NDJSON, one flat object per record, as
    VictoriaLogs' /select/logsql/query answers (keys audit.log.origin,
    audit.log.tree, audit.log.index, log.record.uid, event_name...).

A position is the file number and line index of the record in audit.log
(audit.log.tree, audit.log.index). A hole is a missing index below the
highest one seen in a file, or below the size a checkpoint record
(AUDIT_LOG_CHECKPOINT, audit.log.size) states for it. Positions that an
AUDIT_RECORDS_DROPPED record names (the spool dropped them for its disk
budget) are holes too, marked as announced. Records without a position are
counted, not placed.

With -logs, the host's files of one origin are read too (plain or gzip;
-logs is repeatable, and takes a glob pattern: -logs 'audit.log*'), and
every line of them whose position never arrived is named: the file number
and line index, and the line. A file's number comes from the chain file
beside it (audit.chain, written without sealing: the number of each file
by its device and inode), or from FILE=NUMBER; a file neither places counts
down from the next newer one given (files ordered by modification time),
the newest from the highest file number that arrived. The origin is -origin,
or the default log name of the newest file's path, or the only origin that
arrived.

Exit status: 0 no hole; 1 a hole in some origin, or a host line that never
arrived; 2 usage errors and sources that cannot be read.
`

// The attribute keys gaps reads; equal to those of packages psono and
// spool (gaps_test holds them equal), not imported so that the CLI does not
// link the spool's storage.
const (
	keyOrigin      = "audit.log.origin"
	keyTree        = "audit.log.tree"
	keyIndex       = "audit.log.index"
	keySize        = "audit.log.size"
	keyUID         = "log.record.uid"
	keyDroppedPos  = "audit.dropped.positions"
	eventDropped   = "AUDIT_RECORDS_DROPPED"
	eventCheckpt   = "AUDIT_LOG_CHECKPOINT"
	noOriginOrigin = "(no origin)"
)

// gapRecord is what gaps needs of one record.
type gapRecord struct {
	event, origin, uid string
	tree, index, size  int64 // -1 when absent
	droppedPositions   string
}

// gapsOrigin is what arrived of one origin.
type gapsOrigin struct {
	Origin     string      `json:"origin"`
	Records    int         `json:"records"`
	Unplaced   int         `json:"unplaced"`
	Trees      []gapsTree  `json:"trees"`
	Holes      int64       `json:"holes"`
	Duplicates int         `json:"duplicates"`
	Announced  []string    `json:"announced_drops,omitempty"`
	HostFiles  []*hostFile `json:"host_files,omitempty"`
	seen       map[int64]map[int64]int
	uids       map[int64]map[int64]map[string]bool
	sizes      map[int64]int64
	announced  map[int64]map[int64]bool
}

type gapsTree struct {
	Tree       int64    `json:"tree"`
	Positions  int      `json:"positions"`
	Expected   int64    `json:"expected"`
	Holes      []string `json:"holes,omitempty"`
	Duplicates []string `json:"duplicates,omitempty"`
}

func runGaps(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gaps", gapsUsage, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per origin")
	var logs logList
	fs.Var(&logs, "logs", "a file (or glob pattern) of the host's audit log, FILE=NUMBER to give its file number; repeatable")
	originName := fs.String("origin", "", "the origin of the -logs files")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(fs, stderr, "want at least one SOURCE")
	}
	origins := map[string]*gapsOrigin{}
	for _, src := range fs.Args() {
		if err := readGapSource(ctx, src, func(r gapRecord) { addGap(origins, r) }); err != nil {
			fmt.Fprintf(stderr, "otelaudit gaps: %s: %v\n", src, err)
			return exitUsage
		}
	}
	var hostFiles []*hostFile
	hostOrigin := ""
	if len(logs) > 0 {
		var err error
		if hostFiles, err = expandLogs(logs); err != nil {
			fmt.Fprintf(stderr, "otelaudit gaps: -logs: %v\n", err)
			return exitUsage
		}
		if hostOrigin, err = chooseOrigin(*originName, hostFiles, origins); err != nil {
			fmt.Fprintf(stderr, "otelaudit gaps: -logs: %v\n", err)
			return exitUsage
		}
		if origins[hostOrigin] == nil { // nothing of it arrived
			addGap(origins, gapRecord{origin: hostOrigin, tree: -1, index: -1, size: -1})
			origins[hostOrigin].Records, origins[hostOrigin].Unplaced = 0, 0
		}
	}
	names := make([]string, 0, len(origins))
	for n := range origins {
		names = append(names, n)
	}
	sort.Strings(names)
	code := exitOK
	for _, n := range names {
		o := origins[n]
		o.finish()
		if o.Holes > 0 {
			code = exitFailed
		}
		var hostOut strings.Builder
		if n == hostOrigin {
			missing, err := checkHostFiles(&hostOut, hostFiles, o, *asJSON)
			if err != nil {
				fmt.Fprintf(stderr, "otelaudit gaps: -logs: %v\n", err)
				return exitUsage
			}
			if missing {
				code = exitFailed
			}
			o.HostFiles = hostFiles
		}
		if *asJSON {
			b, _ := json.Marshal(o)
			fmt.Fprintf(stdout, "%s\n", b)
			continue
		}
		fmt.Fprintf(stdout, "origin %s: %d record(s), %d without a position, %d hole(s), %d duplicate(s)\n",
			o.Origin, o.Records, o.Unplaced, o.Holes, o.Duplicates)
		for _, t := range o.Trees {
			fmt.Fprintf(stdout, "  tree %d: %d of %d position(s)", t.Tree, t.Positions, t.Expected)
			if len(t.Holes) > 0 {
				fmt.Fprintf(stdout, "; holes %s", strings.Join(t.Holes, ","))
			}
			if len(t.Duplicates) > 0 {
				fmt.Fprintf(stdout, "; duplicates %s", strings.Join(t.Duplicates, ","))
			}
			fmt.Fprintln(stdout)
		}
		if len(o.Announced) > 0 {
			fmt.Fprintf(stdout, "  dropped by the spool (announced): %s\n", strings.Join(o.Announced, ","))
		}
		io.WriteString(stdout, hostOut.String())
	}
	return code
}

func addGap(origins map[string]*gapsOrigin, r gapRecord) {
	name := r.origin
	if name == "" {
		name = noOriginOrigin
	}
	o := origins[name]
	if o == nil {
		o = &gapsOrigin{Origin: name, seen: map[int64]map[int64]int{}, uids: map[int64]map[int64]map[string]bool{},
			sizes: map[int64]int64{}, announced: map[int64]map[int64]bool{}}
		origins[name] = o
	}
	o.Records++
	switch {
	case r.event == eventCheckpt:
		if r.tree >= 0 && r.size > o.sizes[r.tree] {
			o.sizes[r.tree] = r.size
		}
		return
	case r.event == eventDropped:
		for _, p := range strings.Split(r.droppedPositions, ",") {
			if p == "" {
				continue
			}
			o.Announced = append(o.Announced, p)
			t, rng, _ := strings.Cut(p, ":")
			tree, err1 := strconv.ParseInt(t, 10, 64)
			a, b, isRange := strings.Cut(rng, "-")
			first, err2 := strconv.ParseInt(a, 10, 64)
			last := first
			var err3 error
			if isRange {
				last, err3 = strconv.ParseInt(b, 10, 64)
			}
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			if o.announced[tree] == nil {
				o.announced[tree] = map[int64]bool{}
			}
			for i := first; i <= last && i-first < 1<<24; i++ {
				o.announced[tree][i] = true
			}
		}
	}
	if r.tree < 0 || r.index < 0 {
		if r.event != eventDropped {
			o.Unplaced++
		}
		return
	}
	if o.seen[r.tree] == nil {
		o.seen[r.tree] = map[int64]int{}
		o.uids[r.tree] = map[int64]map[string]bool{}
	}
	o.seen[r.tree][r.index]++
	if o.uids[r.tree][r.index] == nil {
		o.uids[r.tree][r.index] = map[string]bool{}
	}
	o.uids[r.tree][r.index][r.uid] = true
}

// finish computes the holes and duplicates of each tree.
func (o *gapsOrigin) finish() {
	trees := map[int64]bool{}
	for t := range o.seen {
		trees[t] = true
	}
	for t := range o.sizes {
		trees[t] = true
	}
	for t := range o.announced {
		trees[t] = true
	}
	ids := make([]int64, 0, len(trees))
	for t := range trees {
		ids = append(ids, t)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, t := range ids {
		seen := o.seen[t]
		expected := o.sizes[t]
		for i := range seen {
			expected = max(expected, i+1)
		}
		for i := range o.announced[t] {
			expected = max(expected, i+1)
		}
		gt := gapsTree{Tree: t, Positions: len(seen), Expected: expected}
		var run []int64
		flush := func() {
			if len(run) == 0 {
				return
			}
			s := strconv.FormatInt(run[0], 10)
			if len(run) > 1 {
				s += "-" + strconv.FormatInt(run[len(run)-1], 10)
			}
			gt.Holes = append(gt.Holes, s)
			run = run[:0]
		}
		for i := int64(0); i < expected; i++ {
			if seen[i] > 0 {
				flush()
				continue
			}
			if len(run) > 0 && run[len(run)-1] != i-1 {
				flush()
			}
			run = append(run, i)
			o.Holes++
		}
		flush()
		idx := make([]int64, 0)
		for i, n := range seen {
			if n > 1 {
				idx = append(idx, i)
			}
		}
		sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
		for _, i := range idx {
			kind := "resent"
			if len(o.uids[t][i]) > 1 {
				kind = "distinct uids"
			}
			gt.Duplicates = append(gt.Duplicates, fmt.Sprintf("%d(x%d, %s)", i, seen[i], kind))
			o.Duplicates += seen[i] - 1
		}
		o.Trees = append(o.Trees, gt)
	}
}

// readGapSource reads the records of a file or URL.
func readGapSource(ctx context.Context, src string, f func(gapRecord)) error {
	var rc io.ReadCloser
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("%s", resp.Status)
		}
		rc = resp.Body
	} else {
		file, err := os.Open(src)
		if err != nil {
			return err
		}
		rc = file
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 && (err == nil || err == io.EOF) {
			if perr := parseGapLine(line, f); perr != nil {
				if err == io.EOF {
					return nil // a last line still being written
				}
				return fmt.Errorf("line %d: %w", n, perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// OTLP JSON, as far as gaps reads it.
type (
	otlpRequest struct {
		ResourceLogs []struct {
			Resource struct {
				Attributes []otlpKV `json:"attributes"`
			} `json:"resource"`
			ScopeLogs []struct {
				LogRecords []struct {
					EventName  string   `json:"eventName"`
					Attributes []otlpKV `json:"attributes"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	otlpKV struct {
		Key   string `json:"key"`
		Value struct {
			StringValue *string     `json:"stringValue"`
			IntValue    json.Number `json:"intValue"`
		} `json:"value"`
	}
)

// parseGapLine reads the records of one line: an OTLP JSON request or a
// flat NDJSON record.
func parseGapLine(line []byte, f func(gapRecord)) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(line, &probe); err != nil {
		return err
	}
	if _, ok := probe["resourceLogs"]; ok {
		var req otlpRequest
		if err := json.Unmarshal(line, &req); err != nil {
			return err
		}
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					r := gapRecord{event: lr.EventName, tree: -1, index: -1, size: -1}
					for _, kv := range lr.Attributes {
						setGapField(&r, kv.Key, kv.Value.StringValue, string(kv.Value.IntValue))
					}
					f(r)
				}
			}
		}
		return nil
	}
	var flat map[string]any
	if err := json.Unmarshal(line, &flat); err != nil {
		return err
	}
	r := gapRecord{tree: -1, index: -1, size: -1}
	for _, k := range []string{"event_name", "event.name"} {
		if v, ok := flat[k].(string); ok && v != "" {
			r.event = v
		}
	}
	for k, v := range flat {
		switch v := v.(type) {
		case string:
			setGapField(&r, k, &v, v)
		case float64:
			s := strconv.FormatInt(int64(v), 10)
			setGapField(&r, k, nil, s)
		}
	}
	f(r)
	return nil
}

func setGapField(r *gapRecord, key string, str *string, num string) {
	s := ""
	if str != nil {
		s = *str
	}
	n := func() int64 {
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return -1
		}
		return v
	}
	switch key {
	case keyOrigin:
		r.origin = s
	case keyUID:
		r.uid = s
	case keyDroppedPos:
		r.droppedPositions = s
	case keyTree:
		r.tree = n()
	case keyIndex:
		r.index = n()
	case keySize:
		r.size = n()
	}
}
