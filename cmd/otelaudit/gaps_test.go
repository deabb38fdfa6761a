package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/spool"
)

// TestGapsKeys: the keys gaps reads are those the pipeline writes.
func TestGapsKeys(t *testing.T) {
	for got, want := range map[string]string{
		keyOrigin: string(spool.Origin), keyTree: string(psono.LogTree), keyIndex: string(psono.LogIndex),
		keySize: string(psono.LogSize), keyUID: string(spool.RecordUID), keyDroppedPos: string(spool.DroppedPositions),
		eventDropped: spool.DroppedEvent, eventCheckpt: psono.CheckpointEvent,
	} {
		if got != want {
			t.Errorf("gaps reads %q, the pipeline writes %q", got, want)
		}
	}
}

// otlpLine returns one OTLP JSON request line (as the collector's file
// exporter writes it) of records at the positions of origin in tree.
func otlpLine(origin string, tree int64, indexes ...int64) string {
	var recs []string
	for _, i := range indexes {
		recs = append(recs, fmt.Sprintf(`{"timeUnixNano":"1","eventName":"READ_SUCCESS","attributes":[`+
			`{"key":"audit.log.origin","value":{"stringValue":%q}},{"key":"audit.log.tree","value":{"intValue":"%d"}},`+
			`{"key":"audit.log.index","value":{"intValue":"%d"}},{"key":"log.record.uid","value":{"stringValue":"u-%d"}}],`+
			`"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"}`, origin, tree, i, i))
	}
	return `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},` +
		`"scopeLogs":[{"scope":{"name":"s"},"logRecords":[` + strings.Join(recs, ",") + `]}]}]}` + "\n"
}

func specialLine(origin, event, extra string) string {
	return `{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"eventName":"` + event +
		`","attributes":[{"key":"audit.log.origin","value":{"stringValue":"` + origin + `"}},` + extra + `]}]}]}]}` + "\n"
}

func TestGaps(t *testing.T) {
	for _, c := range []struct {
		name  string
		input string
		code  int
		want  []string // substrings of the output
	}{
		{"complete", otlpLine("a", 1, 0, 1, 2) + otlpLine("a", 1, 3), exitOK,
			[]string{"origin a: 4 record(s), 0 without a position, 0 hole(s), 0 duplicate(s)", "tree 1: 4 of 4 position(s)\n"}},
		{"hole", otlpLine("a", 1, 0, 1, 4) + otlpLine("b", 2, 0), exitFailed,
			[]string{"origin a: 3 record(s), 0 without a position, 2 hole(s)", "tree 1: 3 of 5 position(s); holes 2-3", "origin b: 1 record(s)"}},
		{"resent", otlpLine("a", 1, 0, 1) + otlpLine("a", 1, 1, 2), exitOK,
			[]string{"1 duplicate(s)", "duplicates 1(x2, resent)"}},
		{"tail hole shown by a checkpoint", otlpLine("a", 1, 0, 1) +
			specialLine("a", "AUDIT_LOG_CHECKPOINT", `{"key":"audit.log.tree","value":{"intValue":"1"}},{"key":"audit.log.size","value":{"intValue":"4"}}`),
			exitFailed, []string{"tree 1: 2 of 4 position(s); holes 2-3"}},
		{"announced drop", otlpLine("a", 1, 0, 3) +
			specialLine("a", "AUDIT_RECORDS_DROPPED", `{"key":"audit.dropped.positions","value":{"stringValue":"1:1-2"}}`),
			exitFailed, []string{"holes 1-2", "dropped by the spool (announced): 1:1-2"}},
		{"no origin, no position", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"X"}]}]}]}` + "\n", exitOK,
			[]string{"origin (no origin): 1 record(s), 1 without a position, 0 hole(s)"}},
		{"ndjson", `{"_msg":"","event_name":"READ_SUCCESS","audit.log.origin":"v","audit.log.tree":"1","audit.log.index":"0"}` + "\n" +
			`{"_msg":"","event_name":"READ_SUCCESS","audit.log.origin":"v","audit.log.tree":"1","audit.log.index":"2"}` + "\n",
			exitFailed, []string{"origin v: 2 record(s)", "holes 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "export.jsonl")
			if err := os.WriteFile(path, []byte(c.input), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := runGaps(context.Background(), []string{path}, &out, &errOut)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errOut.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestGapsURL: a VictoriaLogs-style query answer fetched over HTTP, and
// -json output.
func TestGapsURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"event_name":"A","audit.log.origin":"i1","audit.log.tree":"1","audit.log.index":"0"}`)
		fmt.Fprintln(w, `{"event_name":"A","audit.log.origin":"i1","audit.log.tree":"1","audit.log.index":"1"}`)
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if code := runGaps(context.Background(), []string{"-json", srv.URL + "/select/logsql/query?query=*"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"origin":"i1","records":2`) || !strings.Contains(out.String(), `"holes":0`) {
		t.Errorf("output %s", out.String())
	}
}

// TestGapsErrors: usage errors and unreadable sources are exit 2.
func TestGapsErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not json\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {filepath.Join(t.TempDir(), "missing")}, {bad}} {
		var out, errOut bytes.Buffer
		if code := runGaps(context.Background(), args, &out, &errOut); code != exitUsage {
			t.Errorf("gaps %q: exit %d, want %d", args, code, exitUsage)
		}
	}
}
