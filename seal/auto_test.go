package seal

import (
	"path/filepath"
	"testing"
	"time"
)

func TestAutomaticCheckpoints(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		lines      int
		wantReason string
		wantSize   int64
	}{
		{"every", []Option{WithEvery(10), WithInterval(0)}, 25, "every", 10},
		{"interval", []Option{WithEvery(0), WithInterval(5 * time.Millisecond)}, 3, "interval", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath, _ := newKey(t, dir)
			cps := make(chan Checkpoint, 64)
			opts := append(tt.opts, WithCheckpointFunc(func(c Checkpoint) { cps <- c }))
			sv := startService(t, keyPath, filepath.Join(dir, "audit.log"), opts...)
			defer sv.close()
			if c := <-cps; c.Reason != "start" || c.Size != 0 {
				t.Fatalf("first checkpoint %s of %d lines, want start of 0", c.Reason, c.Size)
			}
			for i := 0; i < tt.lines; i++ {
				sv.write(1)
			}
			deadline := time.After(10 * time.Second)
			for {
				select {
				case c := <-cps:
					if c.Reason != tt.wantReason {
						t.Fatalf("checkpoint for %q, want %q", c.Reason, tt.wantReason)
					}
					if c.Size >= tt.wantSize {
						return
					}
				case <-deadline:
					t.Fatalf("no %s checkpoint of %d lines within 10s", tt.wantReason, tt.wantSize)
				}
			}
		})
	}
}
