package receipt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/otelaudit/otelaudit/receipt"
)

func TestReceipt(t *testing.T) {
	fail := errors.New("disk full")
	for _, tc := range []struct {
		name    string
		sets    []error
		written bool
		err     error
	}{
		{"no sink", nil, false, nil},
		{"written", []error{nil}, true, nil},
		{"failed", []error{fail}, false, fail},
		{"a failure is not hidden by a later success", []error{fail, nil}, false, fail},
		{"a failure after a success wins", []error{nil, fail}, false, fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, r := receipt.NewContext(context.Background())
			if receipt.FromContext(ctx) != r {
				t.Fatal("FromContext does not return the context's Receipt")
			}
			for _, err := range tc.sets {
				receipt.FromContext(ctx).Set(err)
			}
			if ok, err := r.Written(); ok != tc.written || err != tc.err {
				t.Errorf("Written() = %v, %v; want %v, %v", ok, err, tc.written, tc.err)
			}
		})
	}
	// A context without a Receipt: setting is a no-op, not a panic.
	receipt.FromContext(context.Background()).Set(fail)
}
