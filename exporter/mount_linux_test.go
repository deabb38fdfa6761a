package exporter

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestNoticesMountOverFolder mounts a file system over the audit log's
// folder (a tmpfs, a bind mount of another folder), over a folder above it,
// and over audit.log itself (a bind mount of another file), while a File has
// audit.log open: a mount is no inotify event, but the next record must go
// to the file now visible at the path, not into the one the mount hides, and
// the sealer is told of another file. Once the mount is gone, the next
// record goes to the first file again, and the sealer is told once more.
func TestNoticesMountOverFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting over the audit log's folder needs root")
	}
	for _, c := range []struct {
		name string
		// mount mounts something over a part of root/logs/audit.log and
		// returns the mount point.
		mount func(t *testing.T, root string) string
	}{
		{"tmpfs over the folder", func(t *testing.T, root string) string {
			return mountAt(t, "tmpfs", filepath.Join(root, "logs"), "tmpfs", 0, "size=1m,mode=0700")
		}},
		{"bind mount over the folder", func(t *testing.T, root string) string {
			other := filepath.Join(root, "other")
			mustInternal(t, os.Mkdir(other, 0o700))
			return mountAt(t, other, filepath.Join(root, "logs"), "", syscall.MS_BIND, "")
		}},
		{"tmpfs over the folder above", func(t *testing.T, root string) string {
			return mountAt(t, "tmpfs", root, "tmpfs", 0, "size=1m,mode=0700")
		}},
		{"bind mount over audit.log", func(t *testing.T, root string) string {
			other := filepath.Join(filepath.Dir(root), "other.log")
			mustInternal(t, os.WriteFile(other, nil, 0o600))
			return mountAt(t, other, filepath.Join(root, "logs", "audit.log"), "", syscall.MS_BIND, "")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			path := filepath.Join(root, "logs", "audit.log")
			mustInternal(t, os.MkdirAll(filepath.Dir(path), 0o700))
			sealer := &rotationCounter{}
			f, err := NewFile(path, WithSealer(sealer))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
			t.Logf("inotify watch on: %v", f.watch.on)
			emitMarked(t, f, "BEFORE_ONE")
			emitMarked(t, f, "BEFORE_TWO") // the watch is in place
			hidden, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer hidden.Close()

			point := c.mount(t, root)
			emitMarked(t, f, "MOUNTED")
			if got := events(t, path); got != "MOUNTED" {
				t.Errorf("the file at the path (on the mount) holds %q, want the record written after the mount", got)
			}
			if got := eventsOf(t, hidden); got != "BEFORE_ONE BEFORE_TWO" {
				t.Errorf("the file the mount hides holds %q, want only the records written before the mount", got)
			}
			if sealer.rotates != 1 {
				t.Errorf("the sealer was told of %d other files, want 1", sealer.rotates)
			}

			// The File holds a file on the mount open: a lazy unmount, as umount -l.
			mustInternal(t, syscall.Unmount(point, syscall.MNT_DETACH))
			emitMarked(t, f, "UNMOUNTED")
			if got := events(t, path); got != "BEFORE_ONE BEFORE_TWO UNMOUNTED" {
				t.Errorf("after the unmount the file at the path holds %q, want the first file with the last record", got)
			}
			if sealer.rotates != 2 {
				t.Errorf("the sealer was told of %d other files, want 2", sealer.rotates)
			}
		})
	}
}

// mountAt mounts source at target and unmounts it when the test ends, if the
// test did not.
func mountAt(t *testing.T, source, target, fstype string, flags uintptr, data string) string {
	t.Helper()
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s at %s: %v", source, target, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
	return target
}

// emitMarked writes a record with event name ev through f.OnEmit.
func emitMarked(t *testing.T, f *File, ev string) {
	t.Helper()
	var r log.Record
	r.SetTimestamp(time.Date(2020, 5, 24, 7, 55, 41, 0, time.UTC))
	r.SetEventName(ev)
	rec := &sdklogtest.Recorder{}
	sdklog.NewLoggerProvider(sdklog.WithProcessor(rec)).Logger("test").Emit(context.Background(), r)
	if err := f.OnEmit(context.Background(), &rec.Records()[0]); err != nil {
		t.Fatal(err)
	}
}

// events returns the event names of the lines of the file at path, in order,
// separated by spaces.
func events(t *testing.T, path string) string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer file.Close()
	return eventsOf(t, file)
}

func eventsOf(t *testing.T, file *os.File) string {
	t.Helper()
	data, err := io.ReadAll(io.NewSectionReader(file, 0, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if _, rest, ok := strings.Cut(line, "event="); ok {
			ev, _, _ := strings.Cut(rest, ",")
			evs = append(evs, ev)
		} else if line != "" {
			evs = append(evs, "?"+line)
		}
	}
	return strings.Join(evs, " ")
}
