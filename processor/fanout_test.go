package processor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/processor"
)

// step is a processor that notes each call in a shared log and can fail.
type step struct {
	name    string
	log     *[]string
	enabled bool
	fail    error
}

func (s step) note(what string) error {
	*s.log = append(*s.log, s.name+"."+what)
	return s.fail
}
func (s step) Enabled(context.Context, sdklog.EnabledParameters) bool { return s.enabled }
func (s step) OnEmit(context.Context, *sdklog.Record) error           { return s.note("emit") }
func (s step) Shutdown(context.Context) error                         { return s.note("shutdown") }
func (s step) ForceFlush(context.Context) error                       { return s.note("flush") }

// TestFanout: every call reaches every processor in order, one processor's
// failure stops none of the others, and the errors are joined; Enabled is
// true when any processor is.
func TestFanout(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	tests := []struct {
		name         string
		failA, failB error
		enA, enB     bool
		wantEnabled  bool
	}{
		{"all well", nil, nil, true, true, true},
		{"first fails", errA, nil, false, true, true},
		{"both fail", errA, errB, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			f := processor.Fanout(step{"a", &log, tt.enA, tt.failA}, step{"b", &log, tt.enB, tt.failB})
			if got := f.Enabled(context.Background(), sdklog.EnabledParameters{}); got != tt.wantEnabled {
				t.Errorf("Enabled = %v, want %v", got, tt.wantEnabled)
			}
			var r sdklog.Record
			errs := []error{f.OnEmit(context.Background(), &r), f.ForceFlush(context.Background()), f.Shutdown(context.Background())}
			if got, want := strings.Join(log, " "), "a.emit b.emit a.flush b.flush a.shutdown b.shutdown"; got != want {
				t.Errorf("calls %q, want %q", got, want)
			}
			for _, err := range errs {
				if !errors.Is(err, tt.failA) && tt.failA != nil || !errors.Is(err, tt.failB) && tt.failB != nil {
					t.Errorf("error %v does not hold every failure (%v, %v)", err, tt.failA, tt.failB)
				}
				if tt.failA == nil && tt.failB == nil && err != nil {
					t.Errorf("error %v with no failure", err)
				}
			}
		})
	}
}
