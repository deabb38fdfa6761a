package instrument

import "unicode/utf8"

// DefaultMaxValueLength is the longest value, in bytes, that a record holds
// unless WithMaxValueLength says otherwise. A longer value is cut at a UTF-8
// boundary and TruncatedMark is appended.
const DefaultMaxValueLength = 4096

// TruncatedMark ends a value that was cut to the maximum value length.
const TruncatedMark = "...[truncated]"

// clip cuts s to at most max bytes, at a UTF-8 boundary, marking the cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(TruncatedMark)
	for cut > 0 && cut > max-len(TruncatedMark)-4 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncatedMark
}
