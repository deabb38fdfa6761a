package exporter_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/internal/fulldisk"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// record makes an SDK record the way the SDK does: emitted through a
// LoggerProvider.
func record(event string, attrs ...attribute.KeyValue) sdklog.Record {
	c := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(c))
	var r log.Record
	r.SetTimestamp(time.Date(2020, 5, 24, 7, 55, 41, 473771000, time.UTC))
	r.SetEventName(event)
	r.AddAttributes(attrs...)
	lp.Logger("test").Emit(context.Background(), r)
	return c.Records()[0]
}

func TestAppendLine(t *testing.T) {
	full := []attribute.KeyValue{
		attribute.String(string(psono.KwargAttr("datastore_id")), "bed4572d-6a28-4c00-94c2-dd45322de1d0"),
		attribute.String(string(psono.UserID.Attr), "ba504938-9a23-4162-867f-6840c301bc20"),
		attribute.String(string(psono.User.Attr), "demo2@example.com"),
		attribute.Int(string(psono.Status.Attr), 200),
		attribute.String(string(psono.Hostname.Attr), "0a5048185933"),
		attribute.Bool(string(psono.Success.Attr), true),
		attribute.String(string(psono.ReqURL.Attr), "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"),
		attribute.String(string(psono.ReqMethod.Attr), "GET"),
		attribute.String(string(psono.UserIP.Attr), "10.10.10.145"),
		attribute.String(string(psono.Logger.Attr), "restapi.views.datastore"),
		attribute.String(string(psono.Route), "GET /datastore/{datastore_id}/"),
	}
	tests := []struct {
		name string
		r    sdklog.Record
		loc  *time.Location
		want string
	}{
		{"seed line, attributes in any order", record("LIST_DATASTORE_SUCCESS", full...), time.UTC,
			"2020-05-24T07:55:41.473771 logger=restapi.views.datastore, user_ip=10.10.10.145, req_method=GET, req_url=/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/, success=True, hostname=0a5048185933, status=HTTP_200_OK, event=LIST_DATASTORE_SUCCESS, user=demo2@example.com, user_id=ba504938-9a23-4162-867f-6840c301bc20, kwarg_datastore_id=bed4572d-6a28-4c00-94c2-dd45322de1d0\n"},
		{"missing fields are None", record("", attribute.Bool(string(psono.Success.Attr), false), attribute.Int(string(psono.Status.Attr), 418)), time.FixedZone("X", 2*3600),
			"2020-05-24T09:55:41.473771 logger=None, user_ip=None, req_method=None, req_url=None, success=False, hostname=None, status=HTTP_418_IM_A_TEAPOT, event=None\n"},
		{"hostile kwarg name and values", record("E", attribute.String(psono.KwargAttrPrefix+"a=b, c", "x\ny"), attribute.String(string(psono.User.Attr), "a, b=c")), time.UTC,
			"2020-05-24T07:55:41.473771 logger=None, user_ip=None, req_method=None, req_url=None, success=None, hostname=None, status=None, event=E, user=\"a, b=c\", kwarg_a_b__c=\"x\\ny\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(exporter.AppendLine(nil, &tt.r, tt.loc)); got != tt.want {
				t.Errorf("AppendLine:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFileExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "audit.log")
	f, err := exporter.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := []sdklog.Record{record("A"), record("B")}
	if err := f.Export(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := f.Export(context.Background(), recs[:1]); err != nil {
		t.Fatal(err)
	}
	if err := f.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Export(context.Background(), recs); err == nil {
		t.Error("Export after Shutdown succeeded")
	}
	for p, n := range map[string]int{path + ".1": 2, path: 1} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(data), "\n"); got != n {
			t.Errorf("%s has %d lines, want %d", p, got, n)
		}
	}
}

// TestWriteFailure writes to a real file system that is full: Export must
// say so, never report success.
func TestWriteFailure(t *testing.T) {
	disk := fulldisk.New(t)
	f, err := exporter.NewFile(filepath.Join(disk.Dir, "audit.log"), exporter.WithFallback(io.Discard), exporter.WithErrorLog(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(context.Background())
	disk.Fill(t)
	err = f.Export(context.Background(), []sdklog.Record{record("A")})
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "1 record(s) not written") {
		t.Errorf("Export to a full disk = %v, want a no-space error counting the record", err)
	}
}

// TestNoticesDeletedAndReplaced deletes audit.log, then replaces it with
// another file: each time the next record must land in the file at the path,
// not in the one that was taken away.
func TestNoticesDeletedAndReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	f, err := exporter.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(context.Background())
	var r = record("A")
	emit := func() {
		t.Helper()
		if err := f.OnEmit(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	emit()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	emit()
	if n := lines(t, path); n != 1 {
		t.Fatalf("after delete: %d lines at the path, want 1", n)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	emit()
	if n := lines(t, path); n != 2 {
		t.Fatalf("after replace: %d lines at the path, want 2", n)
	}
}

// TestReceipt checks that a record's outcome reaches its emitter.
func TestReceipt(t *testing.T) {
	var fallback bytes.Buffer
	f, err := exporter.NewFile(filepath.Join(t.TempDir(), "audit.log"), exporter.WithFallback(&fallback), exporter.WithErrorLog(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	r := record("A")
	ctx, rc := receipt.NewContext(context.Background())
	if ok, err := rc.Written(); ok || err != nil {
		t.Fatalf("fresh receipt = %v, %v", ok, err)
	}
	if err := f.OnEmit(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if ok, err := rc.Written(); !ok || err != nil {
		t.Fatalf("receipt after a write = %v, %v", ok, err)
	}
	_ = f.Shutdown(context.Background())
	ctx, rc = receipt.NewContext(context.Background())
	_ = f.OnEmit(ctx, &r)
	if ok, err := rc.Written(); ok || err == nil {
		t.Fatalf("receipt after shutdown = %v, %v; want a failure", ok, err)
	}
	if !strings.HasPrefix(fallback.String(), exporter.FallbackMark) || strings.Count(fallback.String(), "\n") != 1 {
		t.Errorf("the record emitted after shutdown is not in the fallback: %q", fallback.String())
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// TestConcurrentShutdown shuts a File down from several goroutines at once,
// in every durability: no panic, every call returns, the file is complete.
func TestConcurrentShutdown(t *testing.T) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			f, err := exporter.NewFile(path, exporter.WithDurability(d))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Export(context.Background(), []sdklog.Record{record("A_SUCCESS")}); err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 4)
			for range cap(errs) {
				go func() { errs <- f.Shutdown(context.Background()) }()
			}
			for range cap(errs) {
				if err := <-errs; err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			}
			if n := lines(t, path); n != 1 {
				t.Errorf("audit.log has %d lines, want 1", n)
			}
		})
	}
}
