package exporter

import (
	"bytes"
	"sync"
)

// FallbackMark starts every line the fallback writer gets: a record that
// could not be written to audit.log, whole, after the mark and the path of
// the audit log it belongs to:
//
//	OTELAUDIT-UNWRITTEN /var/log/psono/audit.log: 2026-11-29T16:49:19.000001 logger=...
const FallbackMark = "OTELAUDIT-UNWRITTEN "

// fallbackMu serialises fallback writes of every File, so that lines of two
// Files sharing standard error never interleave.
var fallbackMu sync.Mutex

// fallBack writes each line of lines (whole lines, each ending in '\n') to
// the fallback writer, marked, and returns how many there were. It runs
// outside f.mu, as the writer.
func (f *File) fallBack(lines []byte, cause error) int {
	n := bytes.Count(lines, []byte{'\n'})
	if n == 0 || f.fallback == nil {
		return n
	}
	prefix := FallbackMark + f.path + ": "
	out := make([]byte, 0, len(lines)+n*len(prefix))
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n') + 1
		out = append(out, prefix...)
		out = append(out, lines[:i]...)
		lines = lines[i:]
	}
	fallbackMu.Lock()
	_, _ = f.fallback.Write(out)
	fallbackMu.Unlock()
	return n
}
