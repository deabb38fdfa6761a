package seal

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Defaults of the automatic checkpoints.
const (
	DefaultEvery    = 1000
	DefaultInterval = 10 * time.Second
)

// CheckpointsSuffix is appended to the path of audit.log to name the file
// the checkpoints are written to.
const CheckpointsSuffix = ".checkpoints"

// An Option configures a Sealer.
type Option func(*config)

type config struct {
	every    int64
	interval time.Duration
	onCP     func(Checkpoint)
	origin   string
	errorLog func(error)
	now      func() time.Time
}

// WithEvery makes the sealer sign a checkpoint once n lines were appended
// since the last one (default DefaultEvery). n <= 0 turns this off.
func WithEvery(n int) Option { return func(c *config) { c.every = int64(n) } }

// WithInterval makes the sealer sign a checkpoint every d while lines were
// appended since the last one (default DefaultInterval). d <= 0 turns this
// off.
func WithInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithCheckpointFunc has f called with every checkpoint once it is written,
// for example to forward it as an AUDIT_LOG_CHECKPOINT record. f is called
// by one goroutine at a time, in the order of the checkpoints; it must not
// call the Sealer's methods.
func WithCheckpointFunc(f func(Checkpoint)) Option { return func(c *config) { c.onCP = f } }

// WithOrigin sets the origin line of the checkpoints, the log's name; the
// default is the key's name.
func WithOrigin(origin string) Option { return func(c *config) { c.origin = origin } }

// WithErrorLog sets where errors of automatic checkpoints are reported; the
// default is the log package.
func WithErrorLog(f func(error)) Option { return func(c *config) { c.errorLog = f } }

// A Sealer keeps the Merkle tree of the lines of one audit.log and writes
// signed checkpoints of it to audit.log.checkpoints beside it. audit.log
// itself is never touched: the Sealer only reads it, at New.
//
// The file exporter calls Append with the lines of each successful write,
// Rotate when it has opened a new file at the path (after logrotate moved the
// old one away) and Close at shutdown. Checkpoints are signed in a goroutine
// of the Sealer, so Append only hashes.
type Sealer struct {
	signer  note.Signer
	origin  string
	logPath string
	cpPath  string
	cfg     config

	mu       sync.Mutex // guards the tree
	tree     int64
	fr       frontier
	pending  []tlog.Hash // leaves since the last checkpoint
	spare    []tlog.Hash // the buffer of the last checkpoint's leaves, for reuse
	partial  []byte      // an unfinished line given to Append
	lastSize int64       // size at the last checkpoint of this tree
	closed   bool
	lh       *leafHasher

	cpMu   sync.Mutex // serialises checkpoints; taken before mu
	cpFile *os.File
	prev   tlog.Hash
	torn   bool // the last entry write failed part way
	buf    []byte

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New returns a Sealer for the audit log at logPath, signing with the private
// key in the file keyPath (see WriteKeyFiles).
//
// When audit.log.checkpoints exists, the chain continues: New reads audit.log
// and, when its first lines still have the root of the last checkpoint, goes
// on with that tree (lines written after it, before a crash, are sealed by the
// next checkpoint); otherwise (the file was rotated while the service was
// down, or the last checkpoint is one of rotation) it starts a new tree,
// holding the lines audit.log has now, chained to the last checkpoint. Either
// way New signs a checkpoint when audit.log holds lines no checkpoint covers.
func New(keyPath, logPath string, opts ...Option) (*Sealer, error) {
	c := config{every: DefaultEvery, interval: DefaultInterval, now: time.Now,
		errorLog: func(err error) { log.Print(err) }}
	for _, o := range opts {
		o(&c)
	}
	signer, verifier, err := LoadSigner(keyPath)
	if err != nil {
		return nil, err
	}
	if c.origin == "" {
		c.origin = signer.Name()
	}
	if strings.ContainsAny(c.origin, "\n\r") || strings.ContainsAny(logPath, "\n\r") {
		return nil, errors.New("seal: the origin and the audit log path must not contain line breaks")
	}
	s := &Sealer{
		signer: signer, origin: c.origin, logPath: logPath, cpPath: logPath + CheckpointsSuffix, cfg: c,
		lh: newLeafHasher(), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	needStart, err := s.resume(verifier)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(s.cpPath), 0o700); err != nil {
		return nil, fmt.Errorf("seal: checkpoints folder: %w", err)
	}
	s.cpFile, err = os.OpenFile(s.cpPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("seal: checkpoints: %w", err)
	}
	if needStart {
		if err := s.Checkpoint("start"); err != nil {
			s.cpFile.Close()
			return nil, err
		}
	}
	go s.loop()
	return s, nil
}

// resume sets the tree from the last checkpoint and audit.log. It reports
// whether a checkpoint is needed: a new tree, or lines no checkpoint covers.
func (s *Sealer) resume(own note.Verifier) (needStart bool, err error) {
	data, err := os.ReadFile(s.cpPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("seal: checkpoints: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		s.torn = true
	}
	last, err := lastCheckpoint(data, own)
	if err != nil {
		return false, fmt.Errorf("seal: %s: %w", s.cpPath, err)
	}
	hashes, err := lineHashes(s.logPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("seal: audit log: %w", err)
	}
	s.tree = 1
	if last != nil {
		s.prev = last.Hash()
		s.tree = last.Tree + 1
	}
	// A checkpoint signed by an earlier key (the key was rotated) is
	// continued like one's own: verification checks its signature.
	cont := last != nil && last.Reason != "rotate" && int64(len(hashes)) >= last.Size
	if cont {
		var prefix frontier
		for _, h := range hashes[:last.Size] {
			prefix.push(h)
		}
		cont = prefix.root() == last.Root
	}
	for _, h := range hashes {
		s.fr.push(h)
	}
	if cont {
		s.tree = last.Tree
		s.lastSize = last.Size
		s.pending = append(s.pending, hashes[last.Size:]...)
		return s.fr.size != last.Size, nil
	}
	if last != nil && len(hashes) > 0 && last.Reason != "rotate" {
		s.cfg.errorLog(fmt.Errorf("seal: %s does not continue the last checkpoint (tree %d, %d lines); sealing it as a new file of the chain: it was rotated, truncated or changed while the service was stopped",
			s.logPath, last.Tree, last.Size))
	}
	s.pending = hashes
	return true, nil
}

// lastCheckpoint returns the last readable checkpoint of a checkpoints file,
// signed by the key own or by another (an earlier key, before a rotation).
func lastCheckpoint(data []byte, own note.Verifier) (*Checkpoint, error) {
	marker := []byte(entryMarker + "\n")
	for end := len(data); end > 0; {
		i := bytes.LastIndex(data[:end], marker)
		if i < 0 {
			break
		}
		if i > 0 && data[i-1] != '\n' {
			end = i
			continue
		}
		msg := data[i+len(marker) : end]
		if j := bytes.Index(msg, []byte("\n"+leavesMarker)); j >= 0 {
			msg = msg[:j+1]
		}
		end = i
		if cp, err := OpenCheckpoint(msg, own); err == nil {
			return &cp, nil
		}
		_, err := note.Open(msg, note.VerifierList())
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			cp, perr := parseBody(unverified.Note.Text)
			if perr == nil {
				cp.Note = append([]byte(nil), msg...)
				return &cp, nil
			}
		}
		// A damaged entry (a crash while writing it): look at the one before.
	}
	if len(bytes.TrimSpace(data)) > 0 && !IsCheckpoints(data) {
		return nil, errors.New("not a checkpoints file; move it away or name another audit log path")
	}
	return nil, nil
}

// Append adds the lines of one successful write of audit.log (whole lines,
// each ending with a newline, as written) to the tree. It returns the tree
// number and the index (from 0) of the first of them, the position of the
// record in the sealed log. It only hashes: checkpoints are signed by the
// Sealer's goroutine. Appends after Close are ignored.
func (s *Sealer) Append(lines []byte) (tree, first int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tree, first = s.tree, s.fr.size
	if s.closed {
		return
	}
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			s.partial = append(s.partial, lines...)
			break
		}
		line := lines[:i]
		if len(s.partial) > 0 {
			line = append(s.partial, line...)
			s.partial = s.partial[:0]
		}
		h := s.lh.hash(line)
		s.fr.push(h)
		s.pending = append(s.pending, h)
		lines = lines[i+1:]
	}
	if s.cfg.every > 0 && s.fr.size-s.lastSize >= s.cfg.every {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return
}

// Checkpoint signs a checkpoint of the tree now and writes it to the
// checkpoints file (synced), then passes it to the WithCheckpointFunc
// callback. reason is written in the checkpoint; it must be one word.
func (s *Sealer) Checkpoint(reason string) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	return s.checkpointLocked(reason)
}

// checkpointLocked signs and writes a checkpoint; s.cpMu is held.
func (s *Sealer) checkpointLocked(reason string) error {
	if reason == "" || strings.ContainsAny(reason, " \n\r") {
		return fmt.Errorf("seal: checkpoint reason %q: want one word", reason)
	}
	s.mu.Lock()
	cp := Checkpoint{Origin: s.origin, Size: s.fr.size, Root: s.fr.root(), File: s.logPath, Tree: s.tree,
		Prev: s.prev, Reason: reason, Time: s.cfg.now()}
	leaves := s.pending
	s.pending, s.spare = s.spare, nil
	prevLast := s.lastSize
	s.lastSize = cp.Size
	s.mu.Unlock()

	err := s.write(&cp, leaves)
	if err != nil {
		s.mu.Lock()
		if s.tree == cp.Tree {
			s.pending = append(leaves, s.pending...)
			s.lastSize = prevLast
		}
		s.mu.Unlock()
		return err
	}
	s.prev = cp.Hash()
	s.mu.Lock()
	if s.spare == nil && cap(leaves) <= 1<<16 {
		s.spare = leaves[:0]
	}
	s.mu.Unlock()
	if s.cfg.onCP != nil {
		s.cfg.onCP(cp)
	}
	return nil
}

// write signs cp and appends its entry to the checkpoints file.
func (s *Sealer) write(cp *Checkpoint, leaves []tlog.Hash) error {
	if s.cpFile == nil {
		return errors.New("seal: checkpoint after Close")
	}
	if err := cp.sign(s.signer); err != nil {
		return err
	}
	s.buf = s.buf[:0]
	if s.torn {
		s.buf = append(s.buf, '\n') // never run into the remains of a failed write
	}
	s.buf = appendEntry(s.buf, cp, leaves)
	n, err := s.cpFile.Write(s.buf)
	if err == nil {
		err = s.cpFile.Sync()
	}
	if err != nil {
		s.torn = s.torn || n > 0
		return fmt.Errorf("seal: write checkpoint to %s: %w", s.cpPath, err)
	}
	s.torn = false
	return nil
}

// Rotate ends the tree of the file audit.log was until now with a checkpoint
// (reason "rotate") and starts a new, empty tree for the new file at the
// path, chained to it (a checkpoint of size 0, reason "start").
//
// The exporter calls it whenever it opens a file other than the one it wrote
// to (after logrotate renamed audit.log and SIGHUP, or on noticing the path
// names another file), after the last Append of the old file and before the
// first of the new one. It must not be called when the same file is opened
// again: the tree would no longer match the file.
func (s *Sealer) Rotate() error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	err := s.checkpointLocked("rotate")
	s.mu.Lock()
	s.tree++
	s.fr = frontier{}
	s.pending = nil
	s.partial = s.partial[:0]
	s.lastSize = 0
	s.mu.Unlock()
	if err2 := s.checkpointLocked("start"); err == nil {
		err = err2
	}
	return err
}

// Close signs a last checkpoint (reason "close") and closes the checkpoints
// file. Later calls of Append are ignored; later calls of Close return the
// first one's result.
func (s *Sealer) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.cpMu.Lock()
		defer s.cpMu.Unlock()
		err := s.checkpointLocked("close")
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if cerr := s.cpFile.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("seal: close %s: %w", s.cpPath, cerr)
		}
		s.cpFile = nil
		s.closeErr = err
	})
	return s.closeErr
}

// CheckpointsPath returns the path of the checkpoints file.
func (s *Sealer) CheckpointsPath() string { return s.cpPath }

// loop signs the automatic checkpoints.
func (s *Sealer) loop() {
	defer close(s.done)
	var tick <-chan time.Time
	if s.cfg.interval > 0 {
		t := time.NewTicker(s.cfg.interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		reason := "every"
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-tick:
			reason = "interval"
		}
		s.cpMu.Lock()
		s.mu.Lock()
		changed := s.fr.size != s.lastSize
		due := reason == "interval" || s.cfg.every > 0 && s.fr.size-s.lastSize >= s.cfg.every
		s.mu.Unlock()
		if changed && due {
			if err := s.checkpointLocked(reason); err != nil {
				s.cfg.errorLog(err)
			}
		}
		s.cpMu.Unlock()
	}
}
