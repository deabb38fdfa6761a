package instrument

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// statusWriter records the status of the response that passes through it:
// the first final (2xx-5xx) or 101 WriteHeader that the writer it wraps
// accepted (net/http panics on a code outside 100-999, and then the client
// gets the 500 of a panic, not that code), or 200 at the first Write; after a
// Hijack, the status line the handler writes on the connection.
// It offers Flush, Hijack, Push and ReadFrom whatever the writer it wraps
// supports, answering http.ErrNotSupported where that writer lacks one, as
// http.ResponseController does; Unwrap gives ResponseController the
// original writer.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool // the handler took the connection over
}

func (w *statusWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code) // may panic: then nothing was sent
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

// writerOnly hides every method of a writer but Write, so that io.Copy does
// not call ReadFrom again.
type writerOnly struct{ io.Writer }

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK // a flush sends the header
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection to the handler, wrapped so that the status
// line the handler writes on it (such as "HTTP/1.1 101 Switching
// Protocols") becomes the recorded status.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	if err != nil || w.status != 0 {
		return conn, rw, err
	}
	hc := &hijackedConn{Conn: conn, w: w}
	return hc, bufio.NewReadWriter(rw.Reader, bufio.NewWriter(hc)), nil
}

// hijackedConn reads the status line off the first bytes a handler writes
// on a hijacked connection.
type hijackedConn struct {
	net.Conn
	w    *statusWriter
	head []byte // the first bytes written, until the status is known
	done bool
}

func (c *hijackedConn) Write(b []byte) (int, error) {
	if !c.done {
		c.head = append(c.head, b[:min(len(b), statusLineLen-len(c.head))]...)
		if len(c.head) == statusLineLen {
			c.done = true
			if code, ok := parseStatusLine(c.head); ok && c.w.status == 0 {
				c.w.status = code
			}
		}
	}
	return c.Conn.Write(b)
}

// statusLineLen is the length of "HTTP/1.1 101", enough to read a status.
const statusLineLen = len("HTTP/1.1 101")

// parseStatusLine reads the code of a status line's start "HTTP/x.y NNN".
func parseStatusLine(b []byte) (int, bool) {
	if len(b) < statusLineLen || string(b[:5]) != "HTTP/" || b[8] != ' ' {
		return 0, false
	}
	code := 0
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, code >= 100
}

func (w *statusWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
