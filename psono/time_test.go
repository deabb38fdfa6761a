package psono_test

import (
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

func TestAppendTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2020, 5, 24, 7, 55, 37, 720973000, time.UTC), "2020-05-24T07:55:37.720973"},
		{time.Date(2020, 5, 24, 7, 55, 37, 0, time.UTC), "2020-05-24T07:55:37"},
		{time.Date(2020, 5, 24, 7, 55, 37, 999, time.UTC), "2020-05-24T07:55:37"},
		{time.Date(2020, 5, 24, 7, 55, 37, 1000, time.UTC), "2020-05-24T07:55:37.000001"},
		{time.Date(2020, 5, 24, 7, 55, 37, 999999999, time.UTC), "2020-05-24T07:55:37.999999"},
		{time.Date(999, 1, 2, 3, 4, 5, 600000000, time.UTC), "0999-01-02T03:04:05.600000"},
		{time.Date(2020, 12, 31, 23, 59, 59, 0, time.FixedZone("X", 3600)), "2020-12-31T23:59:59"},
	}
	for _, tt := range tests {
		got := string(psono.AppendTime(nil, tt.t))
		if got != tt.want {
			t.Errorf("AppendTime(%v) = %s, want %s", tt.t, got, tt.want)
		}
		back, err := psono.ParseTime(got, tt.t.Location())
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.t.Truncate(time.Microsecond); !back.Equal(want) {
			t.Errorf("ParseTime(%s) = %v, want %v", got, back, want)
		}
	}
}
