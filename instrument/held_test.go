package instrument

import (
	"errors"
	"sync/atomic"
	"testing"
)

// TestHeldResponseAccounting checks what a held response counts against
// the shared bound: the capacity of every chunk it holds, reserved before
// the chunk exists, never more than the bound, and nothing once the response
// is dropped or released.
func TestHeldResponseAccounting(t *testing.T) {
	const (
		max     = 10000
		maxHeld = 20000
	)
	tests := []struct {
		name     string
		others   int64 // already held by other responses
		writes   []int
		failAt   int   // index of the first write that fails; -1 for none
		reserved int64 // the capacity held after the writes
	}{
		{"small", 0, []int{10}, -1, 512},
		{"one chunk, rounded up", 0, []int{3000}, -1, 4096},
		{"chunks double", 0, []int{600, 600, 600, 1000}, -1, 1024 + 1024 + 2048},
		{"the last chunk stops at max", 0, []int{9000, 1000}, -1, max},
		{"past max", 0, []int{9000, 1001, 1}, 1, 0},
		{"past maxHeld", maxHeld - 1000, []int{500, 600}, 1, 0},
		{"nothing left of maxHeld", maxHeld - 100, []int{1}, 0, 0},
		{"writes after a failure fail", 0, []int{max + 1, 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var held atomic.Int64
			held.Store(tt.others)
			h := &heldResponse{max: max, held: &held, maxHeld: maxHeld}
			var written int
			for i, n := range tt.writes {
				_, err := h.Write(make([]byte, n))
				if fail := tt.failAt >= 0 && i >= tt.failAt; (err != nil) != fail || err != nil && !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("write %d of %d bytes: %v, want failure: %v", i, n, err, fail)
				}
				if err == nil {
					written += n
				}
				var capacity, size int64
				for _, c := range h.chunks {
					capacity += int64(cap(c))
					size += int64(len(c))
				}
				if h.reserved != capacity || held.Load() != tt.others+capacity || held.Load() > maxHeld || size != h.size {
					t.Fatalf("after write %d: reserved %d, held %d, chunks' capacity %d and length %d, size %d",
						i, h.reserved, held.Load(), capacity, size, h.size)
				}
			}
			if tt.failAt < 0 && h.size != int64(written) {
				t.Errorf("holds %d bytes, want %d", h.size, written)
			}
			if h.reserved != tt.reserved {
				t.Errorf("reserved %d, want %d", h.reserved, tt.reserved)
			}
			h.release()
			if held.Load() != tt.others || h.chunks != nil {
				t.Errorf("after release held %d (others hold %d), %d chunks", held.Load(), tt.others, len(h.chunks))
			}
		})
	}
}
