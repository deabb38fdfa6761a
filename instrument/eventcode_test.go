package instrument_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/processor"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

func TestEventCode(t *testing.T) {
	for _, tt := range []struct{ code, want string }{
		{"READ_INFO_SUCCESS", "READ_INFO_SUCCESS"},
		{"login_started_success", "LOGIN_STARTED_SUCCESS"},
		{"Login_Started_Error", "LOGIN_STARTED_ERROR"},
		{"CHECK_HEALTH_FAILURE_2", "CHECK_HEALTH_FAILURE_2"},
		{"", ""},
	} {
		if got := psono.EventCode(tt.code); got != tt.want {
			t.Errorf("EventCode(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestEventCodeCase checks that an event code a handler or a Recorder gives
// in lower or mixed case is recorded in upper case, so that the whitelist
// and blacklist, whose entries are upper case, match it.
func TestEventCodeCase(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		record bool   // through a Recorder, else SetEvent in a handler
		want   string // the recorded event; "" when the lists drop it
	}{
		{"handler, lower case", "login_started_success", false, "LOGIN_STARTED_SUCCESS"},
		{"handler, mixed case, blacklisted", "Login_Started_Error", false, ""},
		{"handler, not whitelisted", "read_info_success", false, ""},
		{"handler, upper case", "LOGIN_TOKEN_SUCCESS", false, "LOGIN_TOKEN_SUCCESS"},
		{"recorder, lower case", "login_token_error", true, "LOGIN_TOKEN_ERROR"},
		{"recorder, mixed case, blacklisted", "login_Started_error", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &sdklogtest.Recorder{}
			filter, err := processor.NewEventFilter(sdklog.NewSimpleProcessor(mem),
				processor.WithWhitelist("LOGIN_*"), processor.WithBlacklist("LOGIN_STARTED_ERROR"))
			if err != nil {
				t.Fatal(err)
			}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(filter))
			if tt.record {
				err := instrument.NewRecorder(instrument.WithLoggerProvider(lp), instrument.WithHostName("h")).
					Record(context.Background(), instrument.Event{Event: tt.code, Success: true})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				h := instrument.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					instrument.SetEvent(r.Context(), tt.code)
				}), instrument.WithLoggerProvider(lp), instrument.WithHostName("h"))
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}
			var got []string
			for _, r := range mem.Records() {
				got = append(got, r.EventName())
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q recorded as %q, want %q", tt.code, got, want)
			}
		})
	}
}
