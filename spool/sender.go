package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// batch is what the sender exports at once: the records, the spool keys
// they came from (the cursor moves past them on success), the drop entries
// its AUDIT_RECORDS_DROPPED record covers and the stored records that
// could not be decoded. The sender keeps one batch and reuses its slices
// (and read's scratch) from one read to the next: the exporter has the
// records slice for its Export call only (sdklog.Exporter must not retain
// it). The strings the records hold point into the arena of their own
// batch, which no later read reuses: an exporter may keep a Clone of a
// record (a Clone shares its strings).
type batch struct {
	recs  []sdklog.Record
	seqs  []int64
	drops [][]byte
	bad   []int64

	// read's scratch: the stored records read (in the read transaction,
	// then in the arena) and their sequence numbers, and the attributes
	// of the record being rebuilt.
	vals    [][]byte
	valSeqs []int64
	attrs   []attribute.KeyValue
}

// send is the sender's goroutine: it exports batches from the front of the
// spool until Shutdown cancels it, retrying each failed export for as long
// as it takes.
func (s *Spool) send() {
	defer close(s.sendDone)
	resources := map[[8]byte]*resource.Resource{}
	names := interner{}
	pause := s.cfg.minRetry
	var b batch
	for {
		if s.sendCtx.Err() != nil {
			return
		}
		err := s.read(&b, resources, names)
		if err == nil && len(b.recs) == 0 && len(b.bad) == 0 {
			select {
			case <-s.wake:
			case <-s.sendCtx.Done():
				return
			}
			continue
		}
		if err == nil && len(b.recs) > 0 {
			err = s.exporter.Export(s.sendCtx, b.recs)
		}
		if err == nil {
			err = s.ack(&b)
		}
		if err != nil {
			if s.sendCtx.Err() != nil {
				return
			}
			s.failing.Lost(1, err)
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-s.sendCtx.Done():
				t.Stop()
				return
			}
			pause = min(2*pause, s.cfg.maxRetry)
			continue
		}
		pause = s.cfg.minRetry
	}
}

// uidRoom is the room a RecordUID takes past the spool's id: "-" and a
// sequence number.
const uidRoom = 1 + 20

// read makes b the next batch: the AUDIT_RECORDS_DROPPED record first when
// records were dropped, then the oldest records spooled. The stored
// records are copied out of the read transaction into one new arena (with
// room for their RecordUIDs), which their strings then point into.
func (s *Spool) read(b *batch, resources map[[8]byte]*resource.Resource, names interner) error {
	clear(b.recs) // no reference to an older batch's arena stays
	b.recs, b.seqs, b.drops, b.bad = b.recs[:0], b.seqs[:0], b.drops[:0], b.bad[:0]
	b.vals, b.valSeqs = b.vals[:0], b.valSeqs[:0]
	var drop Drop
	var arena []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketResources)
		lookup := func(k [8]byte) (*resource.Resource, error) {
			if r, ok := resources[k]; ok {
				return r, nil
			}
			v := rb.Get(k[:])
			if v == nil {
				return nil, fmt.Errorf("spool: resource %x is not stored", k)
			}
			r, err := decodeResource(v)
			if err != nil {
				return nil, err
			}
			resources[k] = r
			return r, nil
		}
		dc := tx.Bucket(bucketDrops).Cursor()
		for k, v := dc.First(); k != nil; k, v = dc.Next() {
			d, err := decodeDrop(v)
			if err != nil {
				s.cfg.errorLog(fmt.Errorf("otelaudit: spool: a stored drop record is corrupt: %w", err))
			}
			drop.merge(d)
			b.drops = append(b.drops, append([]byte(nil), k...))
		}
		c := tx.Bucket(bucketRecords).Cursor()
		size := 0
		for k, v := c.First(); k != nil && len(b.vals) < s.cfg.maxBatch; k, v = c.Next() {
			b.vals = append(b.vals, v)
			b.valSeqs = append(b.valSeqs, int64(binary.BigEndian.Uint64(k)))
			size += len(v)
		}
		if n := len(b.vals); n > 0 {
			// bbolt's values are valid in the transaction only.
			arena = make([]byte, 0, size+n*(len(s.id)+uidRoom))
			for i, v := range b.vals {
				arena = append(arena, v...)
				b.vals[i] = arena[len(arena)-len(v) : len(arena) : len(arena)]
				if k, err := decodeResourceOf(v); err == nil {
					_, _ = lookup(k) // read says when it is not stored
				}
			}
		}
		// The drop record takes the resource of the records around it.
		if drop.Count > 0 {
			var key [8]byte
			first, err := [8]byte{}, error(errCorrupt)
			if len(b.vals) > 0 {
				first, err = decodeResourceOf(b.vals[0])
			}
			switch {
			case err == nil && resources[first] != nil:
				key = first
			case s.lastRes.Load() != nil:
				key = *s.lastRes.Load()
			}
			if _, err := lookup(key); err != nil {
				resources[key] = resource.Empty()
			}
			dr := dropRecord(drop, key, s.cfg.host)
			dr.attrs = append(dr.attrs, s.extraDrop(b.drops[0])...)
			b.recs = append(b.recs, sdklog.Record{})
			s.rebuild.fill(&b.recs[0], &dr, resources[dr.resource])
		}
		return nil
	})
	if err != nil {
		clear(b.vals)
		return err
	}
	var r storedRecord
	for i, v := range b.vals {
		b.vals[i] = nil
		seq := b.valSeqs[i]
		err := decodeRecord(&r, v, names, b.attrs, true)
		res := resources[r.resource]
		if err == nil && res == nil {
			err = fmt.Errorf("spool: resource %x is not stored", r.resource)
		}
		if err != nil {
			s.cfg.errorLog(fmt.Errorf("otelaudit: spool: stored record %d cannot be sent: %w", seq, err))
			b.bad = append(b.bad, seq)
			continue
		}
		var uid string
		uid, arena = s.uid(arena, seq)
		r.attrs = s.appendExtra(r.attrs, uid, seq)
		b.attrs = r.attrs[:0] // grown, perhaps: kept for the next record
		b.recs = append(b.recs, sdklog.Record{})
		s.rebuild.fill(&b.recs[len(b.recs)-1], &r, res)
		b.seqs = append(b.seqs, seq)
	}
	clear(b.attrs[:cap(b.attrs)]) // nor to its strings
	return nil
}

// ack moves the cursor past b: its records and drop entries are deleted,
// in one transaction. Records the budget dropped meanwhile are gone
// already.
func (s *Spool) ack(b *batch) error {
	var removed, removedBytes int64
	var bad Drop
	err := s.db.Update(func(tx *bolt.Tx) error {
		removed, removedBytes, bad = 0, 0, Drop{}
		d := tx.Bucket(bucketDrops)
		for _, k := range b.drops {
			if err := d.Delete(k); err != nil {
				return err
			}
		}
		c := tx.Bucket(bucketRecords).Cursor()
		var k [8]byte
		del := func(seq int64) error {
			binary.BigEndian.PutUint64(k[:], uint64(seq))
			ck, v := c.Seek(k[:])
			if !bytes.Equal(ck, k[:]) {
				return nil // dropped for the budget meanwhile
			}
			removed++
			removedBytes += int64(len(v))
			return c.Delete()
		}
		for _, seq := range b.seqs {
			if err := del(seq); err != nil {
				return err
			}
		}
		for _, seq := range b.bad {
			bad.add(seq, header{tree: -1, index: -1}, time.Now())
			if err := del(seq); err != nil {
				return err
			}
		}
		if bad.Count > 0 {
			id, err := d.NextSequence()
			if err != nil {
				return err
			}
			if err := d.Put(seqKey(int64(id)), bad.encode()); err != nil {
				return err
			}
		}
		if n := len(b.seqs); n > 0 {
			return tx.Bucket(bucketState).Put(keyAcked, seqKey(b.seqs[n-1]))
		}
		return nil
	})
	if err != nil {
		return errors.Join(errors.New("spool: the export succeeded but its acknowledgement failed; the records will be sent again"), err)
	}
	s.pending.Add(-removed)
	s.bytes.Add(-removedBytes)
	if bad.Count > 0 {
		s.dropped.Add(bad.Count)
		s.noteDrop(bad)
	}
	s.notify()
	return nil
}
