package report

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestReporterCountsExactly: the first loss is reported at once, later ones
// within the interval are held back and counted, and Flush reports exactly
// those; the reports add up to every record lost.
func TestReporterCountsExactly(t *testing.T) {
	var got []string
	r := New(func(err error) { got = append(got, err.Error()) }, "record(s) lost", time.Hour)
	r.Lost(1, errors.New("disk full"))
	r.Lost(5, errors.New("disk full again"))
	r.Lost(0, nil) // nothing lost: nothing counted
	r.Lost(3, nil) // no cause given: the last one is kept
	if len(got) != 1 || got[0] != "otelaudit: 1 record(s) lost (1 in all): disk full" {
		t.Fatalf("reports before Flush = %q", got)
	}
	r.Flush()
	r.Flush() // nothing pending: no report
	want := "otelaudit: 8 record(s) lost (9 in all): disk full again"
	if len(got) != 2 || got[1] != want {
		t.Fatalf("reports after Flush = %q, want the second %q", got, want)
	}
	if r.Total() != 9 {
		t.Errorf("Total = %d, want 9", r.Total())
	}
}

// TestReporterInterval: once the interval has passed, the next loss is
// reported at once with everything held back.
func TestReporterInterval(t *testing.T) {
	var got []string
	r := New(func(err error) { got = append(got, err.Error()) }, "lost", time.Nanosecond)
	r.Lost(2, nil)
	r.Lost(3, errors.New("x"))
	if len(got) != 2 || !strings.HasPrefix(got[0], "otelaudit: 2 lost (2 in all): cause not known") ||
		got[1] != "otelaudit: 3 lost (5 in all): x" {
		t.Errorf("reports = %q", got)
	}
}
