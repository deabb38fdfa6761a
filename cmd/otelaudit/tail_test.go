package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	var content string
	for i, ev := range []string{"LOGIN_SUCCESS", "READ_SECRET_SUCCESS", "LOGIN_FAILED_ERROR", "LOGOUT_SUCCESS", "LOGIN_SUCCESS"} {
		content += record("2026-11-29T10:00:0"+string(rune('0'+i)), "10.0.0.1", ev, "alice", 200)
	}
	os.WriteFile(path, []byte(content), 0o600)
	code, out, errOut := otelaudit(t, "tail", "-n", "2", "-event", "LOGIN_*", path)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "LOGIN_FAILED_ERROR") || strings.Contains(out, "LOGOUT") {
		t.Errorf("tail -n 2 -event LOGIN_*: exit %d, output\n%s%s\nwant the last two LOGIN_ records", code, out, errOut)
	}
	if code, _, _ := otelaudit(t, "tail", path, path); code != 2 {
		t.Errorf("tail with two files: exit %d, want 2", code)
	}
}

func TestTailFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	old, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	old.WriteString(record("2026-11-29T10:00:00", "10.0.0.1", "LOGIN_SUCCESS", "before", 200))

	cmd := exec.Command(binary, "tail", "-f", "-n", "1", "-json", "-poll", "10ms", "-event", "LOGIN_*", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	users := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var obj map[string]any
			if json.Unmarshal(sc.Bytes(), &obj) == nil {
				users <- obj["user.name"].(string)
			} else {
				users <- "bad output: " + sc.Text()
			}
		}
		close(users)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-users:
			if got != want {
				t.Fatalf("tail -f printed the record of %q, want %q (stderr %s)", got, want, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("tail -f did not print the record of %q within 10s (stderr %s)", want, stderr.String())
		}
	}

	expect("before") // the last record there was: tail follows from here
	old.WriteString(record("2026-11-29T10:00:01", "10.0.0.1", "READ_SECRET_SUCCESS", "filtered", 200))
	old.WriteString(record("2026-11-29T10:00:02", "10.0.0.1", "LOGIN_SUCCESS", "one", 200))
	expect("one")

	// logrotate moves the file; the service writes one more line to it, then
	// reopens the path (SIGHUP) and writes to the new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	old.WriteString(record("2026-11-29T10:00:03", "10.0.0.1", "LOGIN_SUCCESS", "late in the old file", 200))
	cur, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	cur.WriteString(record("2026-11-29T10:00:04", "10.0.0.1", "LOGIN_SUCCESS", "new file", 200))
	expect("late in the old file")
	expect("new file")
	// Half a line is held back until its end is written.
	rec := record("2026-11-29T10:00:05", "10.0.0.1", "LOGIN_SUCCESS", "split", 200)
	cur.WriteString(rec[:30])
	cur.Sync()
	cur.WriteString(rec[30:])
	expect("split")

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tail -f after SIGINT: %v (stderr %s)", err, stderr.String())
	}
	if extra, ok := <-users; ok {
		t.Errorf("tail -f printed %q more", extra)
	}
}
