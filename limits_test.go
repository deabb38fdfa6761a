package otelaudit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
)

// TestSDKLimitsDoNotChangeTheRecord: the OpenTelemetry SDK's attribute
// limits, set in the environment for telemetry, must not drop or cut
// anything of an audit record: 200 kwargs are all written, the fixed fields
// keep their values, and only the middleware's own documented cap cuts a
// value, with its mark.
func TestSDKLimitsDoNotChangeTheRecord(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "4"},
		{"OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "3"},
	} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			s := config.Default()
			s.Enabled, s.Folder = true, t.TempDir()
			a, err := otelaudit.New(s, otelaudit.WithHostName("host-with-a-long-name"))
			if err != nil {
				t.Fatal(err)
			}
			long := strings.Repeat("v", instrument.DefaultMaxValueLength+100)
			srv := httptest.NewServer(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for i := range 200 {
					instrument.AddKwarg(r.Context(), fmt.Sprintf("k%03d", i), "value")
				}
				instrument.AddKwarg(r.Context(), "long", long)
			})))
			resp, err := http.Get(srv.URL + "/a/long/path")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			srv.Close()
			if err := a.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines := auditLines(t, s.LogPath())
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1", len(lines))
			}
			l, err := psono.Parse(lines[0])
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{"user_ip": "127.0.0.1", "req_url": "/a/long/path",
				"success": "True", "hostname": "host-with-a-long-name", "status": "HTTP_200_OK", "kwarg_k199": "value"} {
				if got, _ := l.Get(key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
			if n := strings.Count(lines[0], ", kwarg_k"); n != 200 {
				t.Errorf("%d of 200 kwargs written", n)
			}
			got, _ := l.Get("kwarg_long")
			if len(got) != instrument.DefaultMaxValueLength || !strings.HasSuffix(got, instrument.TruncatedMark) {
				t.Errorf("a value over the cap: %d bytes, want %d ending in %q", len(got), instrument.DefaultMaxValueLength, instrument.TruncatedMark)
			}
		})
	}
}
