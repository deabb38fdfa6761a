package psono_test

import (
	"errors"
	"math"
	"testing"

	"github.com/otelaudit/otelaudit/psono"
)

type uuid string

func (u uuid) String() string { return "uuid:" + string(u) }

// TestFormatValue: typed values are written as Python's str() writes them
// (expected values produced by CPython 3).
func TestFormatValue(t *testing.T) {
	var nilPtr *int
	seven := 7
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"},
		{nilPtr, "None"},
		{&seven, "7"},
		{true, "True"},
		{false, "False"},
		{42, "42"},
		{int8(-7), "-7"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{1.0, "1.0"},
		{0.1, "0.1"},
		{0.0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{2.5, "2.5"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.5e-5, "1.5e-05"},
		{0.0001, "0.0001"},
		{123456789.125, "123456789.125"},
		{1e100, "1e+100"},
		{float32(0.1), "0.1"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
		{"plain text", "plain text"},
		{[]byte("bytes"), "bytes"},
		{errors.New("oops"), "oops"},
		{uuid("x"), "uuid:x"},
		{[]string{"a", "b"}, "['a', 'b']"},
		{[]string{}, "[]"},
		{[]any{1, 2.5, true, nil, "it's"}, `[1, 2.5, True, None, "it's"]`},
		{[]string{`a'b"c`, "back\\slash", "tab\t", "é"}, `['a\'b"c', 'back\\slash', 'tab\t', 'é']`},
		{[2]int{1, 2}, "[1, 2]"},
		{[][]string{{"x"}}, "[['x']]"},
		{struct{ A int }{1}, "{1}"},
	}
	for _, tt := range tests {
		if got := psono.FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
