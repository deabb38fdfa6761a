//go:build unix

package exporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/sdklogtest"
)

// rotationCounter is a Sealer that counts rotations.
type rotationCounter struct{ rotates int }

func (*rotationCounter) Append([]byte) (int64, int64) { return 0, 0 }
func (c *rotationCounter) Rotate() error              { c.rotates++; return nil }
func (*rotationCounter) Close() error                 { return nil }

// TestGoneFileIsAnother: a new file created at the path after audit.log was
// deleted may be given the deleted file's inode number, and so its identity
// (on ext4 it often is, once the last descriptor of the deleted file is
// closed). The deleted file must count as another file all the same: a
// write goes to the new file, and the sealer is told of a rotation.
func TestGoneFileIsAnother(t *testing.T) {
	id := fileID{dev: 1, ino: 2}
	if !another(id, true, id) {
		t.Error("a deleted file with the new file's identity is the same file")
	}
	if another(id, false, id) {
		t.Error("a file still at the path, opened again, is another file")
	}
	if !another(id, false, fileID{dev: 1, ino: 3}) {
		t.Error("a file with another identity is the same file")
	}

	path := filepath.Join(t.TempDir(), "audit.log")
	c := &rotationCounter{}
	f, err := NewFile(path, WithSealer(c))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(context.Background())
	emit := func() {
		t.Helper()
		var r log.Record
		r.SetTimestamp(time.Date(2020, 5, 24, 7, 55, 41, 0, time.UTC))
		r.SetEventName("A_SUCCESS")
		rec := &sdklogtest.Recorder{}
		sdklog.NewLoggerProvider(sdklog.WithProcessor(rec)).Logger("test").Emit(context.Background(), r)
		if err := f.OnEmit(context.Background(), &rec.Records()[0]); err != nil {
			t.Fatal(err)
		}
	}
	emit()
	if f.h.deleted() {
		t.Fatal("the open file counts as deleted")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if !f.h.deleted() {
		t.Fatal("the deleted file does not count as deleted (link count 0)")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The inode number cannot be made to be reused while the deleted file
	// is open: give the deleted file the new file's identity instead.
	newID, err := statID(path)
	if err != nil {
		t.Fatal(err)
	}
	f.id = newID
	emit()
	if c.rotates != 1 {
		t.Errorf("%d rotations, want 1", c.rotates)
	}
	if data, err := os.ReadFile(path); err != nil || len(data) == 0 {
		t.Errorf("the second record did not go to the new file: %q, %v", data, err)
	}
}
