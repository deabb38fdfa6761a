package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The write-ahead log (the spool's path with ".wal" added) is where a
// group commit puts its records: one write(2) for the whole group (and an
// fsync with durability.Sync), appended to the file by the goroutine that
// owns the log (see Spool.acquireLocked). The background goroutine folds
// the logged groups into the bbolt file, in one transaction for many
// groups, off the request path, and empties the log once they are all
// folded. Open folds what a crash left in the log.
//
// The log is a run of frames:
//
//	length   uint32, big-endian: the payload's length
//	checksum uint32, big-endian: CRC-32C of the payload
//	payload  kind byte, then
//	         frameRecords: first sequence number (uint64, big-endian),
//	                       then each record as a uvarint length and its
//	                       stored form (codec.go)
//	         frameResource: the resource's key (8 bytes), its stored form
//
// A frame cut short or with a wrong checksum ends the log: it can only be
// the last write, cut by a crash of the machine (durability.Write), so its
// records were never acknowledged.
const walSuffix = ".wal"

const (
	frameRecords  = 1
	frameResource = 2
)

// walHeader is the size of a records frame before its first record.
const walHeader = 4 + 4 + 1 + 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sealFrame fills in the header of the frame that buf holds (walHeader
// bytes reserved, then the payload after the kind).
func sealFrame(buf []byte, kind byte) {
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(buf)-8))
	buf[8] = kind
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(buf[8:], castagnoli))
}

// resourceFrame returns the frame storing the resource enc under key.
func resourceFrame(key [8]byte, enc []byte) []byte {
	buf := make([]byte, 9, 9+8+len(enc))
	buf = append(buf, key[:]...)
	buf = append(buf, enc...)
	sealFrame(buf, frameResource)
	return buf
}

// walRecords walks the records framed in a records frame's records part,
// calling f with each.
func walRecords(b []byte, f func(enc []byte) error) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return errCorrupt
		}
		if err := f(b[k : k+int(n)]); err != nil {
			return err
		}
		b = b[k+int(n):]
	}
	return nil
}

// loggedGroup is a records frame read back from the log.
type loggedGroup struct {
	first int64
	recs  []byte // the records part
	n     int
	size  int64 // the stored size of its records
}

// readWAL reads the frames of the log f: the resources and the groups of
// records, and the length of the valid part (a cut tail is not).
func readWAL(f *os.File) (res map[[8]byte][]byte, groups []loggedGroup, valid int64, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, 0, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, 0, err
	}
	res = map[[8]byte][]byte{}
	for off := 0; ; {
		b := data[off:]
		if len(b) < 9 {
			return res, groups, int64(off), nil
		}
		n := binary.BigEndian.Uint32(b[0:4])
		if n < 1 || uint64(n) > uint64(len(b)-8) || crc32.Checksum(b[8:8+n], castagnoli) != binary.BigEndian.Uint32(b[4:8]) {
			return res, groups, int64(off), nil
		}
		p := b[8 : 8+n]
		switch p[0] {
		case frameResource:
			if len(p) < 9 {
				return nil, nil, 0, errors.New("a resource frame of its write-ahead log is too short")
			}
			var k [8]byte
			copy(k[:], p[1:9])
			res[k] = p[9:]
		case frameRecords:
			if len(p) < 9 {
				return nil, nil, 0, errors.New("a records frame of its write-ahead log is too short")
			}
			g := loggedGroup{first: int64(binary.BigEndian.Uint64(p[1:9])), recs: p[9:]}
			if err := walRecords(g.recs, func(enc []byte) error {
				g.n++
				g.size += int64(len(enc))
				return nil
			}); err != nil {
				return nil, nil, 0, fmt.Errorf("a records frame of its write-ahead log: %w", err)
			}
			groups = append(groups, g)
		default:
			return nil, nil, 0, fmt.Errorf("its write-ahead log has a frame of unknown kind %d (written by a later version?)", p[0])
		}
		off += 8 + int(n)
	}
}
