package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/psono"
)

// printedTimes returns the times of the records search printed.
func printedTimes(t *testing.T, out string, asJSON bool) []string {
	t.Helper()
	var times []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		if asJSON {
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("-json printed %q: %v", line, err)
			}
			times = append(times, obj["timestamp"].(string))
			continue
		}
		l, err := psono.Parse(line)
		if err != nil {
			t.Fatalf("printed %q: %v", line, err)
		}
		times = append(times, l.Time)
	}
	return times
}

// search prints the records of all its files in time order, as audit.log*
// names them newest first.
func TestSearchTimeOrder(t *testing.T) {
	dir := t.TempDir()
	rec := func(tm, user string) string { return record(tm, "10.0.0.1", "LOGIN_SUCCESS", user, 200) }
	cur := filepath.Join(dir, "audit.log")
	os.WriteFile(cur, []byte(rec("2026-11-29T10:00:00", "a")+rec("2026-11-29T10:05:00.000001", "b")), 0o600)
	one := filepath.Join(dir, "audit.log.1")
	os.WriteFile(one, []byte(rec("2026-11-29T09:00:00", "c")+rec("2026-11-29T09:30:00.5", "bad time")+rec("2026-11-29T09:30:00.500000", "d")), 0o600)
	two := filepath.Join(dir, "audit.log.2.gz")
	writeGzip(t, two, rec("2026-11-28T08:00:00", "e")+rec("2026-11-29T08:00:00", "f"))
	hostA := filepath.Join(dir, "a.log")
	os.WriteFile(hostA, []byte(rec("2026-11-29T10:00:01", "a1")+rec("2026-11-29T10:00:03", "a3")+rec("2026-11-29T10:00:05", "a5")), 0o600)
	hostB := filepath.Join(dir, "b.log")
	os.WriteFile(hostB, []byte(rec("2026-11-29T10:00:02", "b2")+rec("2026-11-29T10:00:03", "b3")+rec("2026-11-29T10:00:04.999999", "b4")), 0o600)
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o600)

	tests := []struct {
		name  string
		args  []string
		files []string
		want  []string // times, in order
	}{
		{"rotated files, newest first", nil, []string{cur, one, two},
			[]string{"2026-11-28T08:00:00", "2026-11-29T08:00:00", "2026-11-29T09:00:00", "2026-11-29T09:30:00.500000", "2026-11-29T10:00:00", "2026-11-29T10:05:00.000001"}},
		{"interleaved hosts; a tie keeps the order of the files", nil, []string{hostB, empty, hostA},
			[]string{"2026-11-29T10:00:01", "2026-11-29T10:00:02", "2026-11-29T10:00:03", "2026-11-29T10:00:03", "2026-11-29T10:00:04.999999", "2026-11-29T10:00:05"}},
		{"with a filter", []string{"-since", "2026-11-29T09:00:00"}, []string{cur, hostA, one},
			[]string{"2026-11-29T09:00:00", "2026-11-29T09:30:00.500000", "2026-11-29T10:00:00", "2026-11-29T10:00:01", "2026-11-29T10:00:03", "2026-11-29T10:00:05", "2026-11-29T10:05:00.000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				args := append([]string{"search"}, tt.args...)
				if asJSON {
					args = append(args, "-json")
				}
				args = append(args, tt.files...)
				code, out, errOut := cli(t, context.Background(), args...)
				if code != 0 {
					t.Fatalf("otelaudit %q: exit %d\n%s", args, code, errOut)
				}
				if got := printedTimes(t, out, asJSON); strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("otelaudit %q printed records of\n%q\nwant\n%q", args, got, tt.want)
				}
			}
			// The tie: b3 (first file) before a3.
			if tt.files[0] == hostB {
				_, out, _ := cli(t, context.Background(), append([]string{"search", "-event", "LOGIN_SUCCESS"}, tt.files...)...)
				if i, j := strings.Index(out, "user=b3"), strings.Index(out, "user=a3"); i < 0 || j < 0 || i > j {
					t.Errorf("records of the same time are not in the order of the files:\n%s", out)
				}
			}
		})
	}
}

// Only lines that are Psono audit records are records: others are counted
// and the first named on stderr, never printed.
func TestSearchOnlyRecords(t *testing.T) {
	seed := "2020-05-24T07:55:40.927078 logger=restapi.views.activate_token, user_ip=10.10.10.145, req_method=POST, req_url=/authentication/activate-token/, success=True, hostname=0a5048185933, status=HTTP_200_OK, event=LOGIN_ACTIVATE_TOKEN_SUCCESS, user=demo2@example.com, user_id=ba504938-9a23-4162-867f-6840c301bc20, kwarg_token_id=a1398962-05a7-433d-a8f3-999df3e157b8"
	const fixed = "logger=restapi.views.info, user_ip=10.10.10.145, req_method=GET, req_url=/info/, success=True, hostname=h, status=HTTP_200_OK, event=READ_INFO_SUCCESS"
	tests := []struct {
		name   string
		line   string
		record bool
	}{
		{"Psono's own line", seed, true},
		{"no user, time without fraction", "2020-05-24T07:55:37 " + fixed, true},
		{"the exporter's None", "2020-05-24T07:55:37.000001 logger=otelaudit, user_ip=None, req_method=GET, req_url=/, success=None, hostname=h, status=None, event=None", true},
		{"user without user_id", "2020-05-24T07:55:37 " + fixed + ", user=bob", true},
		{"user_id without user", "2020-05-24T07:55:37 " + fixed + ", user_id=1", true},
		{"a status DRF does not name", "2020-05-24T07:55:37 " + strings.Replace(fixed, "HTTP_200_OK", "HTTP_299", 1), true},
		{"WORD key=value", "WORD key=value", false},
		{"a time and a logger", "2020-05-24T07:55:37 logger=x", false},
		{"not a time", "yesterday " + fixed, false},
		{"a date only", "2020-05-24 " + fixed, false},
		{"short fraction", "2020-05-24T07:55:37.5 " + fixed, false},
		{"a zone", "2020-05-24T07:55:37+01:00 " + fixed, false},
		{"fields out of order", "2020-05-24T07:55:37 " + strings.Replace(fixed, "req_method=GET, req_url=/info/", "req_url=/info/, req_method=GET", 1), false},
		{"a field missing", "2020-05-24T07:55:37 " + strings.Replace(fixed, ", hostname=h", "", 1), false},
		{"a field twice", "2020-05-24T07:55:37 " + fixed + ", event=X", false},
		{"an unknown key", "2020-05-24T07:55:37 " + fixed + ", color=red", false},
		{"a kwarg before the user", "2020-05-24T07:55:37 " + fixed + ", kwarg_a=1, user=bob", false},
		{"a kwarg without a name", "2020-05-24T07:55:37 " + fixed + ", kwarg_=1", false},
		{"a kwarg name with a dash", "2020-05-24T07:55:37 " + fixed + ", kwarg_a-b=1", false},
		{"success not a boolean", "2020-05-24T07:55:37 " + strings.Replace(fixed, "success=True", "success=yes", 1), false},
		{"status not a status", "2020-05-24T07:55:37 " + strings.Replace(fixed, "HTTP_200_OK", "OK", 1), false},
		{"status with the wrong name", "2020-05-24T07:55:37 " + strings.Replace(fixed, "HTTP_200_OK", "HTTP_200_CREATED", 1), false},
		{"an empty event", "2020-05-24T07:55:37 " + strings.Replace(fixed, "event=READ_INFO_SUCCESS", `event=""`, 1), false},
		{"empty line", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			good := record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "alice", 200)
			os.WriteFile(path, []byte(good+tt.line+"\n"+tt.line+"\n"+good), 0o600)
			for _, cmd := range [][]string{{"search"}, {"search", "-json"}, {"tail", "-n", "100"}} {
				args := append(cmd, path)
				code, out, errOut := cli(t, context.Background(), args...)
				if code != 0 {
					t.Errorf("otelaudit %q: exit %d\n%s", args, code, errOut)
				}
				lines := strings.Count(out, "\n")
				if tt.record {
					if lines != 4 || errOut != "" {
						t.Errorf("otelaudit %q printed %d records, want 4; stderr %q", args, lines, errOut)
					}
					continue
				}
				if lines != 2 {
					t.Errorf("otelaudit %q printed %d records, want the 2 real ones:\n%s", args, lines, out)
				}
				if want := "skipped 2 lines that are not Psono audit records; the first: " + path + ":2: "; !strings.Contains(errOut, want) {
					t.Errorf("otelaudit %q: stderr %q does not say %q", args, errOut, want)
				}
			}
		})
	}
	// Nothing but lines that are not records: nothing found.
	path := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte("WORD key=value\nWORD key=value\n"), 0o600)
	if code, out, errOut := cli(t, context.Background(), "search", path); code != 1 || out != "" || !strings.Contains(errOut, "skipped 2 lines") {
		t.Errorf("search of a file without records: exit %d, stdout %q, stderr %q; want 1, nothing, and the count", code, out, errOut)
	}
}
