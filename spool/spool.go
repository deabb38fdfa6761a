// Package spool is the durable way of forwarding audit records: an
// sdklog.Processor that puts every record on disk before the record counts
// as sent, and a sender that ships them to an sdklog.Exporter (the OTLP
// exporter) from a persisted cursor that moves only when the exporter
// reports success.
//
// The spool is one bbolt file (go.etcd.io/bbolt, the store of the
// Collector's own file_storage extension) beside audit.log, and its
// write-ahead log: the same path with ".wal" added. A record is stored
// first in the log: the records that came in while the previous group was
// written go together, in one write(2) (and one fsync with
// durability.Sync) made by one of their OnEmit callers, and OnEmit returns
// once its group is in the log. The spool then folds the logged groups
// into the bbolt file, many in one transaction, off the request path
// (within 20 ms, sooner when many wait, at once when the budget is
// exceeded or ForceFlush or Shutdown asks), and empties the log; Open
// folds what a crash left in it. In the bbolt file each record is a value
// keyed by its sequence number in the records bucket; the records bucket
// holds exactly the records folded and not yet sent, in order. The sender
// reads a batch from the front, exports it, and deletes it in one transaction
// once the export succeeded: that deletion is the cursor. A failed export
// is tried again, with pauses from DefaultMinRetry doubling to
// DefaultMaxRetry, for as long as it takes: nothing is given up while the
// spool has room. After a crash or a restart, sending resumes with the
// first record not acknowledged. A record is sent twice only when the
// process stops between an export's success and its deletion; it carries
// the same RecordUID both times.
//
// The spool has a disk budget (WithMaxBytes). When storing records would
// exceed it, the oldest records not yet sent are dropped (checkpoint records
// are kept: they are what proves the host's file), counted, and remembered:
// before anything else, the sender then sends an AUDIT_RECORDS_DROPPED
// record (DroppedEvent) naming their sequence numbers and audit.log
// positions, and WithOnDrop is told, so that audit.log says so too. The
// drops are stored with the records, so a restart does not forget them. A
// record dropped while the batch holding it was being exported may still
// arrive: the drop record names it either way.
//
// Every record sent carries RecordUID, Origin and SpoolSeq besides what it
// had; its trace and span ids, typed attributes (http.route among them),
// resource and scope are stored as they were.
package spool

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/internal/report"
	"github.com/otelaudit/otelaudit/internal/safefile"
)

// ScopeName is the instrumentation scope of the spool's metrics.
const ScopeName = "github.com/otelaudit/otelaudit/spool"

var (
	bucketRecords   = []byte("records")
	bucketResources = []byte("resources")
	bucketDrops     = []byte("drops")
	bucketState     = []byte("state")
	keyID           = []byte("id")
	keyAcked        = []byte("acked")
	keyLastResource = []byte("last_resource")
)

const (
	// foldDelay is the longest a record waits in the write-ahead log
	// before it is folded into the bbolt file (and so seen by the
	// sender); a fold comes sooner when foldRecords records or foldBytes
	// bytes wait.
	foldDelay   = 20 * time.Millisecond
	foldRecords = 4096
	foldBytes   = 4 << 20
	maxKeptBufs = 16 << 20 // the group buffers kept for reuse, in all
	// maxGroupBytes is the size past which OnEmit starts a new group: a
	// group's buffer does not grow (by copying) without end while the
	// previous one is written (with durability.Buffered).
	maxGroupBytes = 1 << 20
)

// ErrClosed is returned by OnEmit after Shutdown.
var ErrClosed = errors.New("spool: shut down; the record was not spooled")

// Spool is the durable forwarding processor (see the package doc). Its
// methods are safe for concurrent use.
type Spool struct {
	db       *bolt.DB
	wal      *os.File
	exporter sdklog.Exporter
	cfg      config
	id       string // the spool's own id, in every RecordUID

	resources sync.Map // *resource.Resource -> resourceEntry

	mu     sync.Mutex
	cond   sync.Cond // on mu: the log is free (for acquireLocked's waiters)
	closed bool
	cur    *group
	full   []*group           // groups that grew to maxGroupBytes, before cur
	resNew map[[8]byte][]byte // resources to store with the next commit

	// owned is true while a goroutine owns the write-ahead log (see
	// acquireLocked): the one that writes to it, folds it or empties it,
	// at most one at a time. retired is set by Shutdown, which keeps the
	// log owned from then on.
	owned     bool
	retired   bool
	acquirers int // waiting in acquireLocked: OnEmit's callers let them go first

	kick    chan struct{} // wakes the background goroutine (never closed)
	stop    chan struct{} // closed by Shutdown: the background goroutine returns
	stopped chan struct{} // closed when it has returned

	freeBufs [][]byte // group buffers to reuse, under mu
	freeCap  int      // their capacity

	// The log owner's own (read and written only while owned is true):
	// the log's end, the next sequence number, the groups logged and not
	// yet folded, and the groups being written.
	walOff        int64
	nextSeq       int64
	unfolded      []*group
	unfoldedN     int
	unfoldedBytes int64
	writing       []*group

	wake     chan struct{} // wakes the sender: records stored
	progress chan struct{} // closed and replaced after each commit or ack
	progMu   sync.Mutex

	pending atomic.Int64 // records waiting in the spool
	bytes   atomic.Int64 // their stored size
	dropped atomic.Int64 // records dropped for the budget, in all
	lastRes atomic.Pointer[[8]byte]

	dropMu      sync.Mutex
	unreported  Drop // dropped, not yet given to onDrop
	reportTimer *time.Timer

	sendCtx    context.Context
	sendCancel context.CancelFunc
	sendDone   chan struct{}
	failing    *report.Reporter
	stored     *report.Reporter
	folding    *report.Reporter
	dropCount  metric.Int64Counter
	closeOnce  sync.Once
	closeErr   error
	rebuild    *rebuilder
}

type resourceEntry struct {
	key [8]byte
	enc []byte
}

// group is the records of one group commit: buf holds its frame in the
// write-ahead log (walHeader bytes, then each record's length and stored
// form). logged (under mu) is set once the write carrying it is over: it is
// in the log, or err says why not. Its OnEmit callers wait on cond (on mu),
// so that a write wakes those it carried, and the release of the log one
// caller of the groups queued (the next writer), not every caller waiting.
type group struct {
	buf     []byte
	n       int   // records
	size    int64 // their stored size
	first   int64 // the first record's sequence number, once logged
	res     map[[8]byte][]byte
	logged  bool
	err     error
	cond    sync.Cond
	waiters int // callers waiting on cond
}

// newGroup returns an empty group, its buffer reused when one is free.
// s.mu is held.
func (s *Spool) newGroup() *group {
	var buf []byte
	if n := len(s.freeBufs); n > 0 {
		buf, s.freeBufs = s.freeBufs[n-1][:walHeader], s.freeBufs[:n-1]
		s.freeCap -= cap(buf)
	} else {
		buf = make([]byte, walHeader, 4<<10)
	}
	g := &group{buf: buf}
	g.cond.L = &s.mu
	return g
}

// encBufs holds OnEmit's encoding buffers.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Open opens (or creates) the spool at path and starts sending what it
// holds to exp. Shutdown stops it, and shuts exp down.
func Open(path string, exp sdklog.Exporter, opts ...Option) (*Spool, error) {
	c := config{maxBytes: DefaultMaxBytes, maxBatch: DefaultMaxBatch, minRetry: DefaultMinRetry,
		maxRetry: DefaultMaxRetry, shutdown: DefaultShutdownTimeout, reportEvery: DefaultReportInterval,
		openTimeout: DefaultOpenTimeout, durability: durability.Write, fileMode: 0o600}
	for _, o := range opts {
		o(&c)
	}
	if c.errorLog == nil {
		c.errorLog = otel.Handle
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	db, err := bolt.Open(path, c.fileMode, &bolt.Options{
		// The spool sits in the audit folder beside audit.log, with its
		// guarantee: a regular file only, never through a symbolic link,
		// never waiting on a FIFO.
		OpenFile: safefile.Open,
		Timeout:  c.openTimeout,
		NoSync:   c.durability != durability.Sync,
		// Nor an fsync when the file grows, which stalls the folds (and
		// so the group commits) for milliseconds; with durability.Sync
		// both stay.
		NoGrowSync:     c.durability != durability.Sync,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
		// Map room for the budget from the start: growing into it then
		// remaps nothing (a remap copies every node of the open
		// transactions). Address space only, on 64-bit systems.
		InitialMmapSize: initialMmap(c.maxBytes),
	})
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", path, err)
	}
	// The log is opened once bbolt holds the file's lock: no other
	// process has it either.
	wal, err := safefile.Open(path+walSuffix, os.O_RDWR|os.O_CREATE, c.fileMode)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("spool: open %s: %w", path+walSuffix, err)
	}
	if c.durability == durability.Sync {
		// The log (and the bbolt file) may be new: their names too
		// must survive a crash of the machine. Best effort: not every
		// file system syncs a directory.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			_ = d.Sync()
			_ = d.Close()
		}
	}
	s := &Spool{db: db, wal: wal, exporter: exp, cfg: c, resNew: map[[8]byte][]byte{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
		wake: make(chan struct{}, 1), progress: make(chan struct{}),
		sendDone: make(chan struct{}), rebuild: newRebuilder(),
		failing: report.New(c.errorLog, "export attempt(s) of the forwarding spool failed; the records stay spooled and are sent again", c.reportEvery),
		stored:  report.New(c.errorLog, "audit record(s) could not be stored in the forwarding spool and will not be forwarded; audit.log is not affected", c.reportEvery),
		folding: report.New(c.errorLog, "audit record(s) could not be moved from the forwarding spool's write-ahead log into its store; they stay in the log and are tried again", c.reportEvery),
	}
	s.cond.L = &s.mu
	s.cur = s.newGroup()
	if err := s.load(); err != nil {
		_ = db.Close()
		_ = wal.Close()
		return nil, fmt.Errorf("spool: %s: %w", path, err)
	}
	if err := s.recover(); err != nil {
		_ = db.Close()
		_ = wal.Close()
		return nil, fmt.Errorf("spool: %s: %w", path+walSuffix, err)
	}
	s.dropCount, err = c.mp.Meter(ScopeName).Int64Counter("otelaudit.spool.dropped", metric.WithUnit("{record}"),
		metric.WithDescription("Audit records the forwarding spool dropped for its disk budget."))
	if err != nil {
		otel.Handle(err)
	}
	if _, err := c.mp.Meter(ScopeName).Int64ObservableGauge("otelaudit.spool.pending", metric.WithUnit("{record}"),
		metric.WithDescription("Audit records stored in the forwarding spool and not yet sent."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(s.pending.Load())
			return nil
		})); err != nil {
		otel.Handle(err)
	}
	s.sendCtx, s.sendCancel = context.WithCancel(context.Background())
	go s.background()
	go s.send()
	return s, nil
}

// initialMmap returns bbolt's initial map size for a budget of maxBytes:
// twice the budget (pages are not full), at most 1 GiB, and nothing on
// 32-bit systems.
func initialMmap(maxBytes int64) int {
	if strconv.IntSize < 64 {
		return 0
	}
	return int(min(2*maxBytes, 1<<30))
}

// load creates the buckets and the spool's id, and counts what is stored.
func (s *Spool) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRecords, bucketResources, bucketDrops, bucketState} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		st := tx.Bucket(bucketState)
		if id := st.Get(keyID); id != nil {
			s.id = string(id)
		} else {
			var b [8]byte
			_, _ = rand.Read(b[:])
			s.id = hex.EncodeToString(b[:])
			if err := st.Put(keyID, []byte(s.id)); err != nil {
				return err
			}
		}
		if lr := st.Get(keyLastResource); len(lr) == 8 {
			var k [8]byte
			copy(k[:], lr)
			s.lastRes.Store(&k)
		}
		var n, size int64
		err := tx.Bucket(bucketRecords).ForEach(func(_, v []byte) error {
			n++
			size += int64(len(v))
			return nil
		})
		s.pending.Store(n)
		s.bytes.Store(size)
		s.nextSeq = int64(tx.Bucket(bucketRecords).Sequence()) + 1
		return err
	})
}

// recover folds the groups a crash left in the write-ahead log (those
// past the last sequence number folded) into the bbolt file, and empties
// the log.
func (s *Spool) recover() error {
	res, logged, valid, err := readWAL(s.wal)
	if err != nil {
		return err
	}
	if fi, err := s.wal.Stat(); err == nil && fi.Size() > valid {
		// Only the last write can be cut, by a crash of the machine: its
		// records were never acknowledged.
		s.cfg.errorLog(fmt.Errorf("otelaudit: spool: the last %d byte(s) of the write-ahead log %s were cut short (a crash?) and are ignored", fi.Size()-valid, s.wal.Name()))
	}
	folded := s.nextSeq - 1
	var groups []loggedGroup
	for _, g := range logged {
		if g.first+int64(g.n)-1 <= folded {
			continue // folded before the crash
		}
		if g.first <= folded { // folds take whole groups: not written so
			var t loggedGroup
			seq := g.first
			_ = walRecords(g.recs, func(enc []byte) error {
				if seq > folded {
					if t.n == 0 {
						t.first = seq
					}
					t.recs = binary.AppendUvarint(t.recs, uint64(len(enc)))
					t.recs = append(t.recs, enc...)
					t.n++
					t.size += int64(len(enc))
				}
				seq++
				return nil
			})
			g = t
		}
		groups = append(groups, g)
		s.pending.Add(int64(g.n))
		s.bytes.Add(g.size)
	}
	if len(groups) > 0 {
		if err := s.commit(res, groups); err != nil {
			return err
		}
		last := groups[len(groups)-1]
		s.nextSeq = max(s.nextSeq, last.first+int64(last.n))
	}
	return s.wal.Truncate(0)
}

// ID returns the spool's id, the first part of every RecordUID it gives.
func (s *Spool) ID() string { return s.id }

// Pending returns how many records wait in the spool.
func (s *Spool) Pending() int64 { return s.pending.Load() }

// Dropped returns how many records the spool dropped for its budget since
// Open.
func (s *Spool) Dropped() int64 { return s.dropped.Load() }

// Enabled reports whether the spool takes records: until Shutdown.
func (s *Spool) Enabled(context.Context, sdklog.EnabledParameters) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// OnEmit stores a copy of r, and returns when the durability says (see
// WithDurability): with Write and Sync, the record is in the spool's
// write-ahead log when OnEmit returns nil. It returns the error of a failed
// write (the record will not be forwarded, and is counted and reported),
// and ErrClosed after Shutdown.
//
// With Write and Sync the log is written by the callers themselves (group
// commit, as audit.log's exporter does): OnEmit queues its record in the
// current group, and the caller that finds the log free takes ownership of
// it, writes every group queued in one write (holding no lock meanwhile),
// and wakes the callers waiting; those that find the log owned wait for the
// write carrying their record, or take the log over after the write in
// progress. No goroutine hand-off is on the way.
func (s *Spool) OnEmit(_ context.Context, r *sdklog.Record) error {
	key := s.resourceKey(r.Resource())
	eb := encBufs.Get().(*[]byte)
	enc := encodeRecord((*eb)[:0], r, key)
	s.mu.Lock()
	closed := s.closed
	g := s.cur
	if !closed {
		if len(g.buf) >= maxGroupBytes {
			s.full = append(s.full, g)
			g = s.newGroup()
			s.cur = g
		}
		g.buf = binary.AppendUvarint(g.buf, uint64(len(enc)))
		g.buf = append(g.buf, enc...)
		g.n++
		g.size += int64(len(enc))
	}
	if closed || s.cfg.durability == durability.Buffered {
		s.mu.Unlock()
	}
	if cap(enc) <= 64<<10 {
		*eb = enc
		encBufs.Put(eb)
	}
	if closed {
		s.stored.Lost(1, ErrClosed)
		return ErrClosed
	}
	if s.cfg.durability == durability.Buffered {
		s.kickBackground() // it writes the group
		return nil
	}
	for !g.logged {
		if s.owned || s.acquirers > 0 {
			// The log is owned (a write, of g or of the groups before
			// it, or a fold), or a fold waits for it (OnEmit's callers,
			// one after the other, would hold it off without end): wait
			// for the end of what comes, then look again.
			if s.retired { // cannot happen: Shutdown logs every group
				s.mu.Unlock()
				return ErrClosed
			}
			g.waiters++
			g.cond.Wait()
			g.waiters--
			continue
		}
		s.owned = true
		if s.cfg.durability == durability.Sync {
			// Let the goroutines ready to run queue their records first
			// (the log owned, they do): they share the fsync, which is
			// worth more than the yield. With Write a yield wakes an
			// idle CPU's thread, which costs more than the write(2) it
			// might save.
			s.mu.Unlock()
			runtime.Gosched()
			s.mu.Lock()
		}
		s.logLocked()
		s.releaseLocked()
	}
	err := g.err
	s.mu.Unlock()
	return err
}

// acquireLocked waits until the write-ahead log is free and takes
// ownership of it; s.mu is held (and released while waiting). It returns
// false, owning nothing, once Shutdown retired the log.
//
// The ownership rule: walOff, nextSeq, unfolded and the log file's
// contents are touched only by the goroutine that owns the log, which
// holds no lock while it writes, folds or truncates; owned (under mu) says
// that one exists. OnEmit's callers own it to write their groups (see
// OnEmit), the background goroutine to write Buffered records and fold,
// ForceFlush and Shutdown to write and fold what is queued. So no write
// runs while a fold empties the log, and no two writes share an offset.
func (s *Spool) acquireLocked() bool {
	for s.owned {
		if s.retired {
			return false
		}
		s.acquirers++
		s.cond.Wait()
		s.acquirers--
	}
	s.owned = true
	return true
}

// releaseLocked gives the log up and wakes those waiting for it: the
// acquirers (background folds, ForceFlush, Shutdown) first, else one OnEmit
// caller of the groups queued, which writes them all; s.mu is held.
func (s *Spool) releaseLocked() {
	s.owned = false
	if s.acquirers > 0 {
		s.cond.Broadcast() // their release wakes the next writer
		return
	}
	for _, g := range s.full {
		if g.waiters > 0 {
			g.cond.Signal()
			return
		}
	}
	if s.cur.waiters > 0 {
		s.cur.cond.Signal()
	}
}

// kickBackground wakes the background goroutine, unless it is awake
// already.
func (s *Spool) kickBackground() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// resourceKey returns the key of res, queueing it to be stored with the
// next commit the first time.
func (s *Spool) resourceKey(res *resource.Resource) [8]byte {
	if res == nil {
		res = resource.Empty()
	}
	if e, ok := s.resources.Load(res); ok {
		return e.(resourceEntry).key
	}
	// Under mu, so that no record can use the key before the resource is
	// queued: a group is logged after the resources it needs.
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.resources.Load(res); ok {
		return e.(resourceEntry).key
	}
	key, enc := encodeResource(res)
	s.resources.Store(res, resourceEntry{key, enc})
	s.resNew[key] = enc
	return key
}

// logLocked writes the groups queued (with the resources they need) to
// the write-ahead log, folds at once when the budget is exceeded (so that
// Dropped counts the records dropped when OnEmit returns), marks the
// groups logged and wakes the background goroutine when it has folding to
// do. The caller owns the log and holds s.mu, which logLocked releases
// during the writes and holds again on return; it wakes the callers
// waiting for the groups it logged.
func (s *Spool) logLocked() {
	if s.cur.n == 0 && len(s.full) == 0 && len(s.resNew) == 0 {
		return
	}
	gs := append(append(s.writing[:0], s.full...), s.cur)
	clear(s.full)
	s.full = s.full[:0]
	s.cur = s.newGroup()
	res := s.resNew
	if len(res) > 0 {
		s.resNew = map[[8]byte][]byte{}
	}
	s.mu.Unlock()
	if len(res) > 0 {
		gs[0].res = res
	}
	wasEmpty := len(s.unfolded) == 0
	logged := 0
	for _, g := range gs {
		s.commitGroup(g)
		if g.err == nil {
			logged += g.n
		}
	}
	if logged > 0 && s.bytes.Load() > s.cfg.maxBytes {
		_ = s.fold()
	}
	// The background goroutine folds: within foldDelay of the first
	// group logged after a fold, at once past foldRecords or foldBytes.
	kick := wasEmpty && len(s.unfolded) > 0 || s.unfoldedN >= foldRecords || s.unfoldedBytes >= foldBytes
	s.mu.Lock()
	for i, g := range gs {
		g.logged = true
		if g.waiters > 0 {
			g.cond.Broadcast()
		}
		gs[i] = nil
	}
	s.writing = gs[:0]
	if kick {
		s.kickBackground()
	}
}

// background is the spool's goroutine besides the sender: it writes the
// records OnEmit queued with durability.Buffered, and folds the logged
// groups into the bbolt file when enough of them wait or when the oldest
// has waited foldDelay, until Shutdown.
func (s *Spool) background() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	for {
		due := false
		select {
		case <-s.kick:
		case <-timer.C:
			armed, due = false, true
		case <-s.stop:
			timer.Stop()
			return
		}
		s.mu.Lock()
		if !s.acquireLocked() {
			s.mu.Unlock()
			return
		}
		s.logLocked()
		s.mu.Unlock()
		if due || s.unfoldedN >= foldRecords || s.unfoldedBytes >= foldBytes {
			_ = s.fold()
		}
		waiting := len(s.unfolded) > 0
		s.mu.Lock()
		s.releaseLocked()
		s.mu.Unlock()
		if waiting && !armed {
			timer.Reset(foldDelay)
			armed = true
		}
	}
}

// commitGroup logs g (a failed group is reported, its resources kept for
// the next); the caller owns the log.
func (s *Spool) commitGroup(g *group) {
	if g.n == 0 && len(g.res) == 0 {
		return
	}
	if g.err = s.log(g); g.err != nil {
		s.stored.Lost(g.n, g.err)
		s.mu.Lock() // store the resources with a later group
		for k, v := range g.res {
			s.resNew[k] = v
		}
		s.mu.Unlock()
		return
	}
	s.unfolded = append(s.unfolded, g)
	s.unfoldedN += g.n
	s.unfoldedBytes += g.size
}

// log writes g (the resources it brings first) to the end of the
// write-ahead log, in one write, and fsyncs it with durability.Sync. A
// failed write is overwritten by the next one. The caller owns the log.
func (s *Spool) log(g *group) error {
	binary.BigEndian.PutUint64(g.buf[9:17], uint64(s.nextSeq))
	sealFrame(g.buf, frameRecords)
	out := g.buf
	if len(g.res) > 0 {
		var b []byte
		for k, v := range g.res {
			b = append(b, resourceFrame(k, v)...)
		}
		out = append(b, g.buf...)
	}
	if _, err := s.wal.WriteAt(out, s.walOff); err != nil {
		return err
	}
	if s.cfg.durability == durability.Sync {
		if err := s.wal.Sync(); err != nil {
			return err
		}
	}
	s.walOff += int64(len(out))
	g.first = s.nextSeq
	s.nextSeq += int64(g.n)
	s.pending.Add(int64(g.n))
	s.bytes.Add(g.size)
	return nil
}

// fold commits the groups logged and not yet folded to the bbolt file, in
// one transaction, and empties the log; the caller owns the log. When that
// fails, they stay in the log and are tried again with the next fold.
func (s *Spool) fold() error {
	if len(s.unfolded) == 0 {
		return nil
	}
	res := map[[8]byte][]byte{}
	groups := make([]loggedGroup, 0, len(s.unfolded))
	for _, g := range s.unfolded {
		for k, v := range g.res {
			res[k] = v
		}
		if g.n > 0 {
			groups = append(groups, loggedGroup{first: g.first, recs: g.buf[walHeader:], n: g.n, size: g.size})
		}
	}
	if err := s.commit(res, groups); err != nil {
		s.folding.Lost(s.unfoldedN, err)
		return err
	}
	// Everything logged is folded: the log starts again. Should the
	// truncation fail, the next groups overwrite the log from its start,
	// and Open skips what is folded already.
	if err := s.wal.Truncate(0); err != nil {
		s.cfg.errorLog(fmt.Errorf("otelaudit: spool: emptying the write-ahead log: %w", err))
	}
	s.walOff = 0
	s.mu.Lock()
	for i, g := range s.unfolded {
		if s.freeCap+cap(g.buf) <= maxKeptBufs {
			s.freeBufs = append(s.freeBufs, g.buf)
			s.freeCap += cap(g.buf)
		}
		g.buf = nil
		s.unfolded[i] = nil
	}
	s.mu.Unlock()
	s.unfolded, s.unfoldedN, s.unfoldedBytes = s.unfolded[:0], 0, 0
	s.notify()
	return nil
}

// commit stores res and the records of groups in the bbolt file, and drops
// the oldest records for the budget. The records are counted in pending
// and bytes already.
func (s *Spool) commit(res map[[8]byte][]byte, groups []loggedGroup) error {
	var drop Drop
	var removed, removedBytes int64
	var last [8]byte
	n := 0
	for _, g := range groups {
		n += g.n
	}
	keys := make([]byte, 8*n)
	err := s.db.Update(func(tx *bolt.Tx) error {
		drop, removed, removedBytes = Drop{}, 0, 0
		rb := tx.Bucket(bucketResources)
		for k, v := range res {
			if err := rb.Put(k[:], v); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketRecords)
		b.FillPercent = 1.0 // keys only ever grow: full pages, no half-empty splits
		keys := keys
		var lastEnc []byte
		var seq int64
		for _, g := range groups {
			seq = g.first
			if err := walRecords(g.recs, func(enc []byte) error {
				k := keys[:8:8]
				keys = keys[8:]
				binary.BigEndian.PutUint64(k, uint64(seq))
				seq++
				lastEnc = enc
				return b.Put(k, enc)
			}); err != nil {
				return err
			}
		}
		if seq-1 > int64(b.Sequence()) {
			if err := b.SetSequence(uint64(seq - 1)); err != nil {
				return err
			}
		}
		if lastEnc != nil {
			if h, err := decodeResourceOf(lastEnc); err == nil {
				last = h
				if err := tx.Bucket(bucketState).Put(keyLastResource, last[:]); err != nil {
					return err
				}
			}
		}
		over := s.bytes.Load() - s.cfg.maxBytes
		if over > 0 {
			now := time.Now()
			c := b.Cursor()
			var victims [][]byte
			for k, v := c.First(); k != nil && over > 0; k, v = c.Next() {
				h, err := decodeHeader(v)
				if err == nil && h.checkpoint {
					continue
				}
				victims = append(victims, k)
				drop.add(int64(binary.BigEndian.Uint64(k)), h, now)
				over -= int64(len(v))
				removedBytes += int64(len(v))
				removed++
			}
			for _, k := range victims {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			if drop.Count > 0 {
				db := tx.Bucket(bucketDrops)
				id, err := db.NextSequence()
				if err != nil {
					return err
				}
				if err := db.Put(seqKey(int64(id)), drop.encode()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n > 0 {
		s.lastRes.Store(&last)
	}
	s.pending.Add(-removed)
	s.bytes.Add(-removedBytes)
	if drop.Count > 0 {
		s.dropped.Add(drop.Count)
		if s.dropCount != nil {
			s.dropCount.Add(context.Background(), drop.Count)
		}
		s.noteDrop(drop)
	}
	return nil
}

// decodeResourceOf returns the resource key of a stored record.
func decodeResourceOf(enc []byte) ([8]byte, error) {
	var k [8]byte
	d := decoder{b: enc}
	d.byte()
	d.byte()
	d.uvarint()
	d.uvarint()
	copy(k[:], d.bytes(8))
	return k, d.err
}

// noteDrop reports dropped records through the error log and onDrop, at
// most once per report interval.
func (s *Spool) noteDrop(d Drop) {
	s.dropMu.Lock()
	defer s.dropMu.Unlock()
	s.unreported.merge(d)
	if s.reportTimer == nil {
		s.reportTimer = time.AfterFunc(0, func() { s.reportDrops(false) })
	}
}

// reportDrops gives what was dropped since the last report to the error log
// and, unless final (at Shutdown, when the pipeline that would carry its
// record is closing), to onDrop, and arms the next report.
func (s *Spool) reportDrops(final bool) {
	s.dropMu.Lock()
	d := s.unreported
	s.unreported = Drop{}
	if d.Count > 0 {
		s.reportTimer = time.AfterFunc(s.cfg.reportEvery, func() { s.reportDrops(false) })
	} else {
		s.reportTimer = nil
	}
	s.dropMu.Unlock()
	if d.Count == 0 {
		return
	}
	s.cfg.errorLog(errors.New("otelaudit: " + d.String()))
	if s.cfg.onDrop != nil && !final {
		s.cfg.onDrop(d)
	}
}

func seqKey(n int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(n))
}

// notify wakes the sender and those waiting for progress.
func (s *Spool) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.progMu.Lock()
	close(s.progress)
	s.progress = make(chan struct{})
	s.progMu.Unlock()
}

func (s *Spool) progressChan() chan struct{} {
	s.progMu.Lock()
	defer s.progMu.Unlock()
	return s.progress
}

// flushStored writes what OnEmit queued so far and folds everything
// logged into the bbolt file, where the sender sees it, on the caller's
// goroutine (once the log is free). It returns the fold's error.
func (s *Spool) flushStored(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed || !s.acquireLocked() {
		s.mu.Unlock()
		return nil // Shutdown logs and folds what is queued
	}
	s.logLocked()
	s.mu.Unlock()
	err := s.fold()
	s.mu.Lock()
	s.releaseLocked()
	s.mu.Unlock()
	return err
}

// ForceFlush stores what OnEmit took and waits until the spool is empty
// (everything sent), or ctx is done.
func (s *Spool) ForceFlush(ctx context.Context) error {
	if err := s.flushStored(ctx); err != nil {
		return err
	}
	return s.waitEmpty(ctx)
}

func (s *Spool) waitEmpty(ctx context.Context) error {
	for {
		ch := s.progressChan()
		if s.pending.Load() == 0 && !s.dropsWaiting() {
			return nil
		}
		select {
		case <-ch:
		case <-s.sendDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Spool) dropsWaiting() bool {
	waiting := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDrops).Cursor().First()
		waiting = k != nil
		return nil
	})
	return waiting
}

// Shutdown stops taking records, commits those taken, keeps sending for at
// most the shutdown timeout (or until ctx is done), then stops the sender,
// shuts the exporter down and closes the file. Nothing still spooled is
// lost: it is sent after the next Open.
func (s *Spool) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		// The last records are logged and folded, and the log is
		// retired: owned by no one but Shutdown from now on, so that
		// nothing writes to it once it is closed.
		s.mu.Lock()
		s.closed = true // no record is queued after this
		if s.acquireLocked() {
			s.logLocked()
			s.mu.Unlock()
			_ = s.fold() // what fails here, the next Open folds
			s.mu.Lock()
			s.retired = true
			s.cond.Broadcast() // acquireLocked's waiters give up
		}
		s.mu.Unlock()
		close(s.stop)
		<-s.stopped

		// Delivering what is spooled is only an attempt: it stays on disk
		// for the next start. So the caller's context bounds it, as well
		// as the shutdown timeout (an expired one: no attempt at all).
		ctx, cancel := context.WithTimeout(ctx, s.cfg.shutdown)
		defer cancel()
		_ = s.waitEmpty(ctx)
		s.sendCancel()
		<-s.sendDone

		s.dropMu.Lock()
		if s.reportTimer != nil {
			s.reportTimer.Stop()
		}
		s.dropMu.Unlock()
		s.reportDrops(true)
		s.reportDropsStop()
		if n := s.pending.Load(); n > 0 {
			s.cfg.errorLog(fmt.Errorf("otelaudit: %d audit record(s) stay in the forwarding spool %s and are sent after the next start", n, s.db.Path()))
		}
		s.failing.Flush()
		s.stored.Flush()
		err := s.exporter.Shutdown(ctx)
		if err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = nil
		}
		s.rebuild.shutdown()
		s.folding.Flush()
		s.closeErr = errors.Join(err, s.db.Close(), s.wal.Close())
	})
	return s.closeErr
}

// reportDropsStop keeps a timer armed by the last report from firing after
// Shutdown.
func (s *Spool) reportDropsStop() {
	s.dropMu.Lock()
	defer s.dropMu.Unlock()
	if s.reportTimer != nil {
		s.reportTimer.Stop()
		s.reportTimer = nil
	}
}

// uid appends the RecordUID of seq to arena, which has room for it, and
// returns it: a string that points into arena (never changed afterwards).
func (s *Spool) uid(arena []byte, seq int64) (string, []byte) {
	start := len(arena)
	arena = append(append(arena, s.id...), '-')
	arena = strconv.AppendInt(arena, seq, 10)
	return unsafe.String(&arena[start], len(arena)-start), arena
}

// appendExtra appends the attributes the spool adds to the record of seq,
// whose RecordUID is uid, to kv.
func (s *Spool) appendExtra(kv []attribute.KeyValue, uid string, seq int64) []attribute.KeyValue {
	kv = append(kv, RecordUID.String(uid), SpoolSeq.Int64(seq))
	if s.cfg.origin != "" {
		kv = append(kv, Origin.String(s.cfg.origin))
	}
	return kv
}

// extraDrop returns the attributes the spool adds to the drop record whose
// first drop entry is key: its RecordUID is the same each time it is sent.
func (s *Spool) extraDrop(key []byte) []attribute.KeyValue {
	kv := []attribute.KeyValue{RecordUID.String(fmt.Sprintf("%s-drop-%d", s.id, binary.BigEndian.Uint64(key)))}
	if s.cfg.origin != "" {
		kv = append(kv, Origin.String(s.cfg.origin))
	}
	return kv
}
