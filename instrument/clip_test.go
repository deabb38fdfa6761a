package instrument

import (
	"testing"
)

func TestClip(t *testing.T) {
	long := string(make([]byte, 100))
	if got := clip(long, 64); len(got) != 64 || got[64-len(TruncatedMark):] != TruncatedMark {
		t.Errorf("clip = %q (%d bytes)", got, len(got))
	}
	multi := "ééééééééééééééééééééééééééééééééééééééééééé" // 2 bytes each
	got := clip(multi, 64)
	if len(got) > 64 || got[len(got)-len(TruncatedMark):] != TruncatedMark {
		t.Fatalf("clip = %q", got)
	}
	for _, r := range got {
		if r == 0xFFFD {
			t.Fatalf("clip cut inside a rune: %q", got)
		}
	}
}
