package processor_test

import (
	"context"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/processor"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

func TestEventFilter(t *testing.T) {
	tests := []struct {
		name             string
		white, black     []string
		allowed, dropped []string
	}{
		{"empty lists allow all", nil, nil, []string{"A_SUCCESS", "B_ERROR", ""}, nil},
		{"whitelist", []string{"A_SUCCESS"}, nil, []string{"A_SUCCESS"}, []string{"A_SUCCESS_X", "B_ERROR", ""}},
		{"prefix", []string{"LOGIN_*"}, nil, []string{"LOGIN_STARTED_SUCCESS", "LOGIN_"}, []string{"LOGIN", "XLOGIN_A"}},
		{"star allows all events", []string{"*"}, []string{"B_*"}, []string{"A"}, []string{"B_ERROR", ""}},
		{"blacklist wins", []string{"A_*"}, []string{"A_ERROR"}, []string{"A_SUCCESS"}, []string{"A_ERROR", "B"}},
		{"blacklist only", nil, []string{"CHECK_HEALTH_SUCCESS", "X_*"}, []string{"CHECK_HEALTH_FAILURE", ""}, []string{"CHECK_HEALTH_SUCCESS", "X_Y"}},
		// Events are matched as psono.EventCode writes them: upper case.
		{"lower-case events", []string{"LOGIN_*", "READ_INFO_SUCCESS"}, []string{"LOGIN_STARTED_ERROR"},
			[]string{"login_started_success", "Read_Info_Success"}, []string{"login_started_error", "Login_Started_Error", "read_status_success"}},
		{"lower-case events, blacklist only", nil, []string{"CHECK_HEALTH_*"}, []string{"check_status"}, []string{"check_health_success"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &sdklogtest.Recorder{}
			f, err := processor.NewEventFilter(next, processor.WithWhitelist(tt.white...), processor.WithBlacklist(tt.black...))
			if err != nil {
				t.Fatal(err)
			}
			check := func(ev string, want bool) {
				var r sdklog.Record
				r.SetEventName(ev)
				before := next.Len()
				if err := f.OnEmit(context.Background(), &r); err != nil {
					t.Fatal(err)
				}
				if got := next.Len() > before; got != want {
					t.Errorf("OnEmit(%q) passed on = %v, want %v", ev, got, want)
				}
				if ev != "" {
					if got := f.Enabled(context.Background(), sdklog.EnabledParameters{EventName: ev}); got != want {
						t.Errorf("Enabled(%q) = %v, want %v", ev, got, want)
					}
				}
			}
			for _, ev := range tt.allowed {
				check(ev, true)
			}
			for _, ev := range tt.dropped {
				check(ev, false)
			}
		})
	}
}

func TestInvalidPatterns(t *testing.T) {
	for _, p := range []string{"", "A*B", "**", "A B", "A\n", "login_*", "Read_Info_Success"} {
		if _, err := processor.NewEventFilter(&sdklogtest.Recorder{}, processor.WithWhitelist(p)); err == nil {
			t.Errorf("whitelist %q accepted", p)
		}
		if _, err := processor.NewEventFilter(&sdklogtest.Recorder{}, processor.WithBlacklist(p)); err == nil {
			t.Errorf("blacklist %q accepted", p)
		}
	}
}

// TestLowerCasePattern checks that a pattern with lower-case letters, which
// could never match an event (events are matched in upper case), is refused
// with the entry the person should write instead.
func TestLowerCasePattern(t *testing.T) {
	err := psono.ValidatePattern("login_*")
	if want := `"login_*" can never match, event codes are upper case; write "LOGIN_*"`; err == nil || err.Error() != want {
		t.Errorf("ValidatePattern(\"login_*\") = %v, want %s", err, want)
	}
}

func ExampleNewEventFilter() {
	file := sdklog.NewSimpleProcessor(nil) // in real use: exporter.NewFile(...)
	filter, err := processor.NewEventFilter(file,
		processor.WithWhitelist("LOGIN_*", "READ_INFO_SUCCESS"),
		processor.WithBlacklist("LOGIN_STARTED_ERROR"))
	if err != nil {
		panic(err)
	}
	_ = sdklog.NewLoggerProvider(sdklog.WithProcessor(filter))
}
