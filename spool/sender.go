package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// batch is what the sender exports at once: the records, the spool keys
// they came from (the cursor moves past them on success), the drop entries
// its AUDIT_RECORDS_DROPPED record covers and the stored records that
// could not be decoded.
type batch struct {
	recs  []sdklog.Record
	seqs  []int64
	drops [][]byte
	bad   []int64
}

// send is the sender's goroutine: it exports batches from the front of the
// spool until Shutdown cancels it, retrying each failed export for as long
// as it takes.
func (s *Spool) send() {
	defer close(s.sendDone)
	resources := map[[8]byte]*resource.Resource{}
	names := interner{}
	pause := s.cfg.minRetry
	for {
		if s.sendCtx.Err() != nil {
			return
		}
		b, err := s.read(resources, names)
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
			err = s.ack(b)
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

// read returns the next batch: the AUDIT_RECORDS_DROPPED record first when
// records were dropped, then the oldest records spooled.
func (s *Spool) read(resources map[[8]byte]*resource.Resource, names interner) (batch, error) {
	var b batch
	var stored []storedRecord
	var drop Drop
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
		for k, v := c.First(); k != nil && len(stored) < s.cfg.maxBatch; k, v = c.Next() {
			seq := int64(binary.BigEndian.Uint64(k))
			r, err := decodeRecord(v, names, 3)
			if err == nil {
				_, err = lookup(r.resource)
			}
			if err != nil {
				s.cfg.errorLog(fmt.Errorf("otelaudit: spool: stored record %d cannot be sent: %w", seq, err))
				b.bad = append(b.bad, seq)
				continue
			}
			stored = append(stored, r)
			b.seqs = append(b.seqs, seq)
		}
		// The drop record takes the resource of the records around it.
		if drop.Count > 0 {
			var key [8]byte
			switch {
			case len(stored) > 0:
				key = stored[0].resource
			case s.lastRes.Load() != nil:
				key = *s.lastRes.Load()
			}
			if _, err := lookup(key); err != nil {
				resources[key] = resource.Empty()
			}
			dr := dropRecord(drop, key, s.cfg.host)
			b.recs = append(b.recs, s.rebuild.record(dr, resources[dr.resource], s.extraDrop(b.drops[0])...))
		}
		return nil
	})
	if err != nil {
		return batch{}, err
	}
	for i, r := range stored {
		b.recs = append(b.recs, s.rebuild.record(r, resources[r.resource], s.extra(b.seqs[i])...))
	}
	return b, nil
}

// ack moves the cursor past b: its records and drop entries are deleted,
// in one transaction. Records the budget dropped meanwhile are gone
// already.
func (s *Spool) ack(b batch) error {
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
