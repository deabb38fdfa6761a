package otelauditgrpc_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/fulldisk"
)

// TestStrict: in strict mode, on a real file system that fills up (a tmpfs;
// skipped without the privilege to mount one), a call during which the
// disk fills gets Unavailable instead of its answer (a stream: at its end,
// after the messages it sent); while audit.log cannot
// be written every call is refused with Unavailable before the
// authentication interceptor and the handler run; once it can, the first
// call is refused (its record is written, which ends the failing state)
// and the next is served.
func TestStrict(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := "unary"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) { testStrict(t, stream) })
	}
}

func testStrict(t *testing.T, stream bool) {
	disk := fulldisk.New(t)
	srv := start(t, setup{adjust: func(s *config.Settings) { s.Strict, s.Folder = true, disk.Dir }})
	if !handsSettings(srv.auditor) {
		t.Skip("this core's Auditor does not hand its settings to the interceptors " +
			"(otelaudit.Auditor.InstrumentOptions), so strict mode cannot reach them")
	}
	// The first call: audit.log has no page yet on the tmpfs that a line
	// could still fit in.
	fill := func() { disk.Fill(t) }
	during.Store(&fill)
	if stream {
		if n, got := srv.stream(t, "during"); got != codes.Unavailable || n != 3 {
			t.Fatalf("a stream during which the disk filled: %v after %d messages, want Unavailable after 3", got, n)
		}
	} else if got := srv.unary(t, "during"); got != codes.Unavailable {
		t.Fatalf("a call during which the disk filled: %v, want Unavailable", got)
	}
	ran := srv.ran.Load()
	for range 2 {
		if got := srv.unary(t, "", "authorization", "Bearer alice"); got != codes.Unavailable {
			t.Fatalf("a unary call while the disk is full: %v, want Unavailable", got)
		}
		if n, got := srv.stream(t, "", "authorization", "Bearer alice"); got != codes.Unavailable || n != 0 {
			t.Fatalf("a stream while the disk is full: %v after %d messages, want Unavailable before any", got, n)
		}
	}
	if got := srv.ran.Load(); got != ran {
		t.Fatalf("%d calls passed authentication while the audit log could not be written", got-ran)
	}

	disk.Free(t)
	if got := srv.unary(t, ""); got != codes.Unavailable {
		t.Fatalf("the first call after the disk was freed: %v, want Unavailable (its record ends the failing state)", got)
	}
	if got := srv.unary(t, ""); got != codes.OK {
		t.Fatalf("a call after recovery: %v, want OK", got)
	}
	if n, got := srv.stream(t, ""); got != codes.OK || n != 3 {
		t.Fatalf("a stream after recovery: %v after %d messages", got, n)
	}
	lines := srv.lines(t)
	if len(lines) != 3 {
		t.Fatalf("audit.log holds %d lines, want 3 (the refusal that was written, the calls after)", len(lines))
	}
	want(t, lines[0], map[string]string{"event": instrument.UnavailableEvent, "status": "HTTP_503_SERVICE_UNAVAILABLE",
		"success": "False", "req_url": callMethod, "user": "<none>"})
	want(t, lines[1], map[string]string{"event": "OTELAUDIT_TEST_V1_TEST_CALL_SUCCESS"})
	want(t, lines[2], map[string]string{"event": "OTELAUDIT_TEST_V1_TEST_LIST_SUCCESS"})
}
