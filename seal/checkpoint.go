package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Checkpoint is a signed statement about one audit.log file: its first Size
// lines have the Merkle tree root Root. Its note body is a C2SP checkpoint
// (origin, tree size, base64 root hash) followed by these extension lines:
//
//	file /var/log/psono/audit.log
//	tree 3
//	prev <base64 SHA-256 of the previous checkpoint's signed note>
//	reason interval
//	time 2026-11-29T16:50:00.123456Z
//
// Tree numbers the files of the chain: it grows by one at each rotation, so
// the checkpoints of audit.log.2.gz, audit.log.1 and audit.log carry three
// consecutive numbers. Prev links every checkpoint to the one signed before
// it, across files; the first checkpoint of a chain has no prev line.
type Checkpoint struct {
	// Origin names the log (by default the key's name).
	Origin string
	// Size is the number of lines the tree holds.
	Size int64
	// Root is the RFC 6962 root hash of the tree of those lines.
	Root tlog.Hash
	// File is the path of audit.log when the checkpoint was signed. It is
	// informational: verification matches files by content, not by name.
	File string
	// Tree is the number of the file in the chain, from 1.
	Tree int64
	// Prev is the Hash of the checkpoint signed before this one; zero for
	// the first of a chain.
	Prev tlog.Hash
	// Reason says what made the sealer sign: "start", "every", "interval",
	// "rotate", "close" or a caller's reason given to Sealer.Checkpoint.
	Reason string
	// Time is when the checkpoint was signed.
	Time time.Time
	// Note is the signed note: the body above, a blank line and the
	// signature line. It is what is forwarded and what Hash covers.
	Note []byte
}

// Hash returns the SHA-256 of the signed note, the value the next
// checkpoint's prev line holds.
func (c Checkpoint) Hash() tlog.Hash { return sha256.Sum256(c.Note) }

// body returns the checkpoint's note text (without signatures).
func (c *Checkpoint) body() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	fmt.Fprintf(&b, "file %s\ntree %d\n", c.File, c.Tree)
	if c.Prev != (tlog.Hash{}) {
		fmt.Fprintf(&b, "prev %s\n", base64.StdEncoding.EncodeToString(c.Prev[:]))
	}
	fmt.Fprintf(&b, "reason %s\ntime %s\n", c.Reason, c.Time.UTC().Format(time.RFC3339Nano))
	return b.String()
}

// sign fills in c.Note.
func (c *Checkpoint) sign(s note.Signer) error {
	msg, err := note.Sign(&note.Note{Text: c.body()}, s)
	if err != nil {
		return fmt.Errorf("seal: sign checkpoint: %w", err)
	}
	c.Note = msg
	return nil
}

// OpenCheckpoint verifies the signed note msg with one of the keys and
// parses its checkpoint.
func OpenCheckpoint(msg []byte, keys ...note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(keys...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("signature: %w", err)
	}
	c, err := parseBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	c.Note = append([]byte(nil), msg...)
	return c, nil
}

// parseBody parses a checkpoint body written by body.
func parseBody(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, errors.New("checkpoint body: want origin, size and root hash lines")
	}
	c.Origin = lines[0]
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return c, fmt.Errorf("checkpoint body: tree size %q is not a number", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("checkpoint body: root hash %q is not a base64 SHA-256", lines[2])
	}
	copy(c.Root[:], root)
	seen := map[string]bool{}
	for _, l := range lines[3:] {
		key, val, _ := strings.Cut(l, " ")
		if seen[key] {
			return c, fmt.Errorf("checkpoint body: %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "file":
			c.File = val
		case "tree":
			if c.Tree, err = strconv.ParseInt(val, 10, 64); err != nil || c.Tree < 1 {
				return c, fmt.Errorf("checkpoint body: tree %q is not a number from 1", val)
			}
		case "prev":
			h, err := base64.StdEncoding.DecodeString(val)
			if err != nil || len(h) != tlog.HashSize {
				return c, fmt.Errorf("checkpoint body: prev %q is not a base64 SHA-256", val)
			}
			copy(c.Prev[:], h)
		case "reason":
			c.Reason = val
		case "time":
			if c.Time, err = time.Parse(time.RFC3339Nano, val); err != nil {
				return c, fmt.Errorf("checkpoint body: time: %w", err)
			}
		default:
			// Unknown extension lines are allowed (C2SP); they are signed too.
		}
	}
	if c.Tree == 0 {
		return c, errors.New("checkpoint body: no tree line; not an otelaudit checkpoint")
	}
	return c, nil
}

// The checkpoints file (audit.log.checkpoints) is a sequence of entries:
//
//	-- otelaudit checkpoint
//	<the signed note, ending with its signature line>
//	-- leaves 2
//	<base64 leaf hash>
//	<base64 leaf hash>
//
// The leaves are the hashes of the lines the checkpoint added to its tree
// since the tree's previous checkpoint (all of them for a tree's first), so
// that verification can name the first line that differs; the signed root
// covers them. A copy of the checkpoints (the collector's) may hold entries
// without their leaves section.
const (
	entryMarker  = "-- otelaudit checkpoint"
	leavesMarker = "-- leaves "
)

// appendEntry appends the checkpoint file entry of c and its new leaves.
func appendEntry(dst []byte, c *Checkpoint, leaves []tlog.Hash) []byte {
	dst = append(dst, entryMarker+"\n"...)
	dst = append(dst, c.Note...)
	dst = append(dst, leavesMarker...)
	dst = strconv.AppendInt(dst, int64(len(leaves)), 10)
	dst = append(dst, '\n')
	for _, h := range leaves {
		dst = base64.StdEncoding.AppendEncode(dst, h[:])
		dst = append(dst, '\n')
	}
	return dst
}

// Entry returns the checkpoint as an entry of a checkpoints file, without
// the line hashes: concatenated, the entries of the checkpoints a collector
// received make a file Verify reads beside the host's own.
func (c Checkpoint) Entry() []byte {
	return append([]byte(entryMarker+"\n"), c.Note...)
}

// An entry is one checkpoint read from a checkpoints file.
type entry struct {
	Checkpoint
	leaves    []tlog.Hash
	hasLeaves bool
	source    string // file name
	line      int    // line of its marker in source
}

// IsCheckpoints reports whether data (the start of a file) is a checkpoints
// file rather than an audit log.
func IsCheckpoints(data []byte) bool {
	return bytes.HasPrefix(data, []byte(entryMarker+"\n"))
}

// parseEntries reads the entries of a checkpoints file, verifying each
// signature with one of keys. It returns the entries it could read and an error for
// each it could not, naming source and line. A last entry cut off in the
// middle (a crash while writing it) is reported like any other.
func parseEntries(data []byte, source string, keys []note.Verifier) ([]entry, []error) {
	var (
		entries []entry
		errs    []error
	)
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); {
		if string(lines[i]) != entryMarker+"\n" {
			errs = append(errs, fmt.Errorf("%s:%d: expected %q; the checkpoints file is damaged here", source, i+1, entryMarker))
			for i < len(lines) && string(lines[i]) != entryMarker+"\n" {
				i++
			}
			continue
		}
		start := i
		i++
		var msg []byte
		for i < len(lines) && !bytes.HasPrefix(lines[i], []byte(leavesMarker)) && string(lines[i]) != entryMarker+"\n" {
			msg = append(msg, lines[i]...)
			i++
		}
		e := entry{source: source, line: start + 1}
		cp, err := OpenCheckpoint(msg, keys...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: checkpoint: %w", source, start+1, err))
			if i < len(lines) && bytes.HasPrefix(lines[i], []byte(leavesMarker)) {
				i++
			}
			for i < len(lines) && string(lines[i]) != entryMarker+"\n" {
				i++
			}
			continue
		}
		e.Checkpoint = cp
		if i < len(lines) && bytes.HasPrefix(lines[i], []byte(leavesMarker)) {
			n, err := strconv.Atoi(strings.TrimSpace(string(lines[i][len(leavesMarker):])))
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s:%d: leaves count %q is not a number", source, i+1, bytes.TrimSpace(lines[i])))
				i++
				continue
			}
			i++
			e.hasLeaves = true
			e.leaves = make([]tlog.Hash, 0, n)
			for ; n > 0; n-- {
				if i >= len(lines) || string(lines[i]) == entryMarker+"\n" {
					break
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(lines[i]), "\n"))
				if err != nil || len(b) != tlog.HashSize {
					break
				}
				e.leaves = append(e.leaves, tlog.Hash(b))
				i++
			}
			if n > 0 {
				errs = append(errs, fmt.Errorf("%s:%d: checkpoint's leaves are cut off or damaged at line %d", source, start+1, i+1))
				for i < len(lines) && string(lines[i]) != entryMarker+"\n" {
					i++
				}
				continue
			}
		}
		entries = append(entries, e)
	}
	return entries, errs
}
