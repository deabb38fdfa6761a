package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/otelaudit/otelaudit/internal/safefile"
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
	keyCheck bool
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

// WithOrigin sets the log name of the checkpoints (their origin line is
// LOG/TREE); the default is DefaultLogName of the audit log's path. One
// name per audit log: two hosts sharing a key must not share a name.
func WithOrigin(log string) Option { return func(c *config) { c.origin = log } }

// WithStrictKey makes New refuse a private key file that others than its
// owner may read or replace (see CheckKeyFile); without it New only reports
// it through the error log.
func WithStrictKey(strict bool) Option { return func(c *config) { c.keyCheck = strict } }

// WithErrorLog sets where errors of automatic checkpoints, and what New and
// Rotate find, are reported; the default is the log package. f is called
// from a goroutine of the Sealer, never while it holds a lock or a caller
// waits: a slow or blocked f (standard error a pipe nobody reads) never
// holds up Append, Rotate or a checkpoint. Reports beyond 64 waiting are
// dropped, and counted in the next one that gets through.
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
	resumed  bool        // the tree goes on from an earlier run
	closed   bool
	lh       *leafHasher

	cpMu   sync.Mutex // serialises checkpoints; taken before mu
	cpFile *os.File
	cpID   string // identity of cpFile, to notice it deleted or replaced
	prev   tlog.Hash
	torn   bool // the checkpoints file ends in an entry cut off part way
	tornNL bool // ... and without a newline
	buf    []byte
	fileID string // identity of audit.log, for the checkpoints
	// What the next checkpoint says about the start (see Checkpoint):
	// reset once it is written.
	adopted  int64
	fragment int64
	brk      string

	reports   chan error    // to the error log's goroutine
	quitRep   chan struct{} // closed by Close (or a failing New)
	lostRep   atomic.Int64
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
	if err := CheckKeyFile(keyPath); err != nil {
		if c.keyCheck {
			return nil, err
		}
		c.errorLog(fmt.Errorf("WARNING: %w", err))
	}
	if c.origin == "" {
		c.origin = DefaultLogName(logPath)
	}
	if strings.ContainsAny(c.origin, "\n\r") || strings.ContainsAny(logPath, "\n\r") {
		return nil, errors.New("seal: the log name and the audit log path must not contain line breaks")
	}
	s := &Sealer{
		signer: signer, origin: c.origin, logPath: logPath, cpPath: logPath + CheckpointsSuffix, cfg: c,
		lh: newLeafHasher(), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		reports: make(chan error, 64), quitRep: make(chan struct{}),
	}
	go s.reportLoop()
	ok := false
	defer func() {
		if !ok {
			close(s.quitRep)
		}
	}()
	if err := os.MkdirAll(filepath.Dir(s.cpPath), 0o700); err != nil {
		return nil, fmt.Errorf("seal: checkpoints folder: %w", err)
	}
	// Opened before it is read: what is read is what is appended to.
	if err := s.openCheckpoints(); err != nil {
		return nil, err
	}
	if err := s.resume(verifier); err != nil {
		s.cpFile.Close()
		return nil, err
	}
	if s.brk != "" {
		s.report(fmt.Errorf("seal: TAMPERING: %s; a checkpoint records it, and otelaudit verify fails on this chain from now on", s.brk))
	} else if s.adopted > 0 {
		s.report(fmt.Errorf("seal: %s: %d line(s) no checkpoint sealed when they were written (sealing started on an existing file, or the service stopped without closing) are sealed now, and verify lists them as adopted", s.logPath, s.adopted))
	}
	// Every start signs a checkpoint: the chain shows each run of the
	// service, and lines after a clean close are told from lines after a
	// restart.
	if err := s.Checkpoint(s.startReason()); err != nil {
		s.cpFile.Close()
		return nil, err
	}
	go s.loop()
	ok = true
	return s, nil
}

// report hands err to the error log's goroutine without waiting (see
// WithErrorLog).
func (s *Sealer) report(err error) {
	select {
	case s.reports <- err:
	default:
		s.lostRep.Add(1)
	}
}

// reportLoop calls the error log with each report, for the Sealer's life;
// at Close it hands over what is still waiting.
func (s *Sealer) reportLoop() {
	log := func(err error) {
		if n := s.lostRep.Swap(0); n > 0 {
			err = fmt.Errorf("%w (and %d earlier report(s) of the sealer dropped while the error log was slow)", err, n)
		}
		s.cfg.errorLog(err)
	}
	for {
		select {
		case err := <-s.reports:
			log(err)
		case <-s.quitRep:
			for {
				select {
				case err := <-s.reports:
					log(err)
				default:
					return
				}
			}
		}
	}
}

// startReason names the first checkpoint of a run.
func (s *Sealer) startReason() string {
	switch {
	case s.brk != "":
		return "break"
	case s.lastSize > 0 || s.resumed:
		return "resume"
	}
	return "start"
}

// openCheckpoints opens (or creates) the checkpoints file for appending: a
// regular file only, never through a symbolic link, never waiting on a
// FIFO.
func (s *Sealer) openCheckpoints() error {
	f, err := safefile.Open(s.cpPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("seal: checkpoints: %w", err)
	}
	s.cpFile = f
	s.cpID = ""
	if fi, err := f.Stat(); err == nil {
		s.cpID = fileIDOf(fi)
	}
	return nil
}

// checkCheckpointsFile reopens the checkpoints file when the path no longer
// names the open file (deleted, moved away or replaced while the service
// runs), and says so in the next checkpoint. s.cpMu is held.
func (s *Sealer) checkCheckpointsFile() {
	if s.cpFile == nil || s.cpID == "" {
		return
	}
	if fi, err := os.Lstat(s.cpPath); err == nil && fileIDOf(fi) == s.cpID && linked(s.cpFile) {
		return
	}
	s.cpFile.Close()
	what := fmt.Sprintf("the checkpoints file %s was deleted, moved or replaced while the service ran; the chain goes on in a new file, and the checkpoints before this one are missing from it", s.cpPath)
	if err := s.openCheckpoints(); err != nil {
		s.cpFile = nil
		s.report(fmt.Errorf("seal: %s, and it cannot be opened again: %w", what, err))
		return
	}
	s.torn, s.tornNL = false, false
	s.brk = what
	s.report(fmt.Errorf("seal: TAMPERING: %s", what))
}

// resume sets the tree from the last checkpoint and audit.log (see New).
func (s *Sealer) resume(own note.Verifier) error {
	data, err := readCheckpoints(s.cpPath)
	if err != nil {
		return fmt.Errorf("seal: checkpoints: %w", err)
	}
	s.torn, s.tornNL = tornTail(data)
	last, err := lastCheckpoint(data, own)
	if err != nil {
		return fmt.Errorf("seal: %s: %w", s.cpPath, err)
	}
	fh, err := readHashes(s.logPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("seal: audit log: %w", err)
	}
	s.fileID = fileIDAt(s.logPath)
	hashes := fh.hashes
	n := int64(len(hashes))
	if fh.torn {
		s.fragment = n
	}
	adoptAll := func() {
		for _, h := range hashes {
			s.fr.push(h)
		}
		s.pending = append(s.pending[:0], hashes...)
		s.adopted = n
	}
	if last == nil {
		s.tree = 1
		adoptAll()
		return nil
	}
	s.prev = last.Hash()
	s.tree = last.Tree + 1
	// A checkpoint signed by an earlier key (the key was rotated) is
	// continued like one's own: verification checks its signature.
	if last.Reason == "rotate" {
		// Stopped between the two checkpoints of a rotation: the file at
		// the path is the new one.
		adoptAll()
		return nil
	}
	var prefix frontier
	if n >= last.Size {
		for _, h := range hashes[:last.Size] {
			prefix.push(h)
		}
	}
	if n >= last.Size && prefix.root() == last.Root {
		// The same file, every sealed line in place: go on with its tree.
		s.tree, s.lastSize, s.fr, s.resumed = last.Tree, last.Size, prefix, true
		for _, h := range hashes[last.Size:] {
			s.fr.push(h)
		}
		s.pending = append(s.pending[:0], hashes[last.Size:]...)
		s.adopted = n - last.Size
		if s.adopted > 0 && last.Reason == "close" {
			s.brk = fmt.Sprintf("file %d of the chain (%s) was closed cleanly with %d lines at %s, but holds %d: lines %d to %d were added while the service was stopped",
				last.Tree, s.logPath, last.Size, last.Time.UTC().Format(time.RFC3339), n, last.Size+1, n)
		}
		return nil
	}
	sealed := treeLeaves(data, last.Tree)
	same := last.FileID != "" && last.FileID == s.fileID ||
		n > 0 && len(sealed) > 0 && hashes[0] == sealed[0]
	switch {
	case same:
		what := fmt.Sprintf("ends after %d lines, but %d were sealed: lines were removed or the file was cut", n, last.Size)
		if int64(len(sealed)) == last.Size {
			i := firstDiff(hashes, sealed)
			where := "the last checkpoint (" + last.Time.UTC().Format(time.RFC3339) + ")"
			what = fmt.Sprintf("line %d: %s", i+1, describeDiff(hashes, sealed, i, where))
		} else if n >= last.Size {
			what = fmt.Sprintf("its first %d lines no longer have the sealed root: a sealed line was changed", last.Size)
		}
		s.brk = fmt.Sprintf("file %d of the chain (%s) was changed while the service was stopped: %s", last.Tree, s.logPath, what)
	case n > 0:
		s.brk = fmt.Sprintf("%s is not file %d of the chain (%d lines sealed) but another file with %d lines no checkpoint sealed: it was replaced while the service was stopped",
			s.logPath, last.Tree, last.Size, n)
	}
	// A new file of the chain: rotated while the service was stopped (an
	// empty or missing file), or the break above.
	adoptAll()
	return nil
}

// readCheckpoints reads the checkpoints file; a missing one is empty.
func readCheckpoints(path string) ([]byte, error) {
	f, err := openRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// tornTail reports whether the checkpoints file ends in an entry cut off
// part way (a crash or a full disk while it was written), and whether that
// entry also lacks its last newline.
func tornTail(data []byte) (torn, noNL bool) {
	if len(data) == 0 {
		return false, false
	}
	if data[len(data)-1] != '\n' {
		return true, true
	}
	i := bytes.LastIndex(data, []byte("\n"+entryMarker+"\n"))
	if i < 0 {
		if !bytes.HasPrefix(data, []byte(entryMarker+"\n")) {
			return false, false
		}
	} else {
		data = data[i+1:]
	}
	return !completeEntry(data), false
}

// treeLeaves returns the stored leaf hashes of tree from the checkpoints
// file's entries, as far as they run on from the tree's start.
func treeLeaves(data []byte, tree int64) []tlog.Hash {
	var leaves []tlog.Hash
	for _, e := range readEntriesUnverified(data) {
		if e.Tree != tree || !e.hasLeaves || int64(len(leaves))+int64(len(e.leaves)) != e.Size {
			continue
		}
		leaves = append(leaves, e.leaves...)
	}
	return leaves
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
	s.checkCheckpointsFile()
	s.mu.Lock()
	cp := Checkpoint{Origin: TreeOrigin(s.origin, s.tree), Size: s.fr.size, Root: s.fr.root(), File: s.logPath, Tree: s.tree,
		Prev: s.prev, Reason: reason, Time: s.cfg.now(), FileID: s.fileID,
		Adopted: s.adopted, Fragment: s.fragment, Break: s.brk}
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
	s.adopted, s.fragment, s.brk = 0, 0, ""
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
		// Never run into the remains of a failed write: close them off,
		// marked, so that verification skips them.
		if s.tornNL {
			s.buf = append(s.buf, '\n')
		}
		s.buf = append(s.buf, tornMarker+"\n"...)
	}
	s.buf = appendEntry(s.buf, cp, leaves)
	n, err := s.cpFile.Write(s.buf)
	if err == nil {
		err = s.cpFile.Sync()
	}
	if err != nil {
		if n > 0 {
			s.torn, s.tornNL = true, s.buf[n-1] != '\n'
		}
		return fmt.Errorf("seal: write checkpoint to %s: %w", s.cpPath, err)
	}
	s.torn, s.tornNL = false, false
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
	// The new file should be empty: logrotate created it, or the exporter
	// did. Lines already in it were written by someone else; they are
	// sealed as they are, and the start checkpoint says so.
	fh, rerr := readHashes(s.logPath)
	s.mu.Lock()
	s.tree++
	s.fr = frontier{}
	s.pending = nil
	s.partial = s.partial[:0]
	s.lastSize = 0
	if rerr == nil && len(fh.hashes) > 0 {
		for _, h := range fh.hashes {
			s.fr.push(h)
		}
		s.pending = append(s.pending, fh.hashes...)
		s.adopted = int64(len(fh.hashes))
		if fh.torn {
			s.fragment = s.adopted
		}
		s.brk = fmt.Sprintf("the new %s already held %d line(s) when the service opened it after a rotation: written by another process, not by this service", s.logPath, len(fh.hashes))
	}
	s.mu.Unlock()
	if s.brk != "" {
		s.report(fmt.Errorf("seal: TAMPERING: %s", s.brk))
	}
	s.fileID = fileIDAt(s.logPath)
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
		close(s.quitRep)
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
				s.report(err)
			}
		}
		s.cpMu.Unlock()
	}
}
