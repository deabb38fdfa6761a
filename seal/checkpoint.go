package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
//	fileid 2049:131075
//	adopted 12
//	fragment 40
//	break file 2 of the chain (audit.log): line 3 differs from the sealed one
//
// The origin is the log's name and the file's number, LOG/TREE (see
// DefaultLogName): each file of the chain is a C2SP log of its own, whose
// tree only grows, so a witness can follow each one; the log name ties the
// checkpoints to one host and folder, so that another host's files, sealed
// with the same key, do not verify as this log's.
//
// The last four lines appear only when they have something to say: fileid
// identifies audit.log on its file system when the checkpoint was signed
// (to tell the same file from a new one at a restart); adopted counts the
// last lines of the tree that were not sealed when they were written (lines
// found in audit.log when sealing started, or written after the last
// checkpoint before a crash) but only when the sealer started; fragment
// numbers a line that is the remains of a write cut off by a crash, not a
// record; break says what the sealer found altered in the file of the
// previous checkpoint when it started: that checkpoint's tree can no longer
// be proven, and verification fails for ever.
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
	// FileID identifies audit.log on its file system ("device:inode")
	// when the checkpoint was signed; "" where it is not known.
	FileID string
	// Adopted is the number of the tree's last lines (of Size) that were
	// sealed only when the sealer started, not when they were written.
	Adopted int64
	// Fragment is the line (from 1) of the tree that is the remains of a
	// write cut off by a crash, or 0.
	Fragment int64
	// Break says what the sealer found altered since the previous
	// checkpoint when it started; "" when nothing was.
	Break string
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
	if c.FileID != "" {
		fmt.Fprintf(&b, "fileid %s\n", c.FileID)
	}
	if c.Adopted > 0 {
		fmt.Fprintf(&b, "adopted %d\n", c.Adopted)
	}
	if c.Fragment > 0 {
		fmt.Fprintf(&b, "fragment %d\n", c.Fragment)
	}
	if c.Break != "" {
		fmt.Fprintf(&b, "break %s\n", c.Break)
	}
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
		case "fileid":
			c.FileID = val
		case "adopted":
			if c.Adopted, err = strconv.ParseInt(val, 10, 64); err != nil || c.Adopted < 0 {
				return c, fmt.Errorf("checkpoint body: adopted %q is not a count", val)
			}
		case "fragment":
			if c.Fragment, err = strconv.ParseInt(val, 10, 64); err != nil || c.Fragment < 1 {
				return c, fmt.Errorf("checkpoint body: fragment %q is not a line number", val)
			}
		case "break":
			if val == "" {
				return c, errors.New("checkpoint body: empty break line")
			}
			c.Break = val
		default:
			// Unknown extension lines are allowed (C2SP); they are signed too.
		}
	}
	if c.Tree == 0 {
		return c, errors.New("checkpoint body: no tree line; not an otelaudit checkpoint")
	}
	if c.Adopted > c.Size || c.Fragment > c.Size {
		return c, fmt.Errorf("checkpoint body: adopted %d or fragment %d beyond the tree's %d lines", c.Adopted, c.Fragment, c.Size)
	}
	return c, nil
}

// LogName returns the log name of the checkpoint's origin (LOG in
// LOG/TREE), or the whole origin when it does not end in the tree's number.
func (c Checkpoint) LogName() string {
	suffix := "/" + strconv.FormatInt(c.Tree, 10)
	if strings.HasSuffix(c.Origin, suffix) {
		return strings.TrimSuffix(c.Origin, suffix)
	}
	return c.Origin
}

// TreeOrigin returns the origin line of file tree of the log named log.
func TreeOrigin(log string, tree int64) string {
	return log + "/" + strconv.FormatInt(tree, 10)
}

// DefaultLogName returns the log name a Sealer gives the checkpoints of the
// audit log at logPath unless WithOrigin names another: this host's name
// (os.Hostname) followed by the absolute path of audit.log, such as
// psono-1/var/log/psono/audit.log. "otelaudit verify" expects the same name
// for the files it is given, unless told another with -log.
func DefaultLogName(logPath string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if abs, err := filepath.Abs(logPath); err == nil {
		logPath = abs
	}
	name := host + filepath.ToSlash(logPath)
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '+' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
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

// tornMarker closes off the remains of an entry whose write was cut off (a
// crash or a full disk): the sealer writes it before its next entry, and
// verification skips what comes before it back to the entry's marker. What
// it skips was never a whole checkpoint: the sealer signs again, with the
// same lines, chained to the checkpoint before the torn one.
const tornMarker = "-- otelaudit torn"

// A rawEntry is one entry of a checkpoints file as written, not verified.
type rawEntry struct {
	msg       []byte // the signed note
	leaves    []tlog.Hash
	hasLeaves bool
	line      int   // of its marker, from 1
	err       error // damaged: what is wrong (with its line)
	torn      bool  // closed off by a torn marker
}

// splitEntries cuts a checkpoints file into its entries. Text that is not
// an entry is returned as a damaged entry of its own.
func splitEntries(data []byte) []rawEntry {
	var out []rawEntry
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	isMarker := func(i int) bool { return string(lines[i]) == entryMarker+"\n" }
	isTorn := func(i int) bool { return string(lines[i]) == tornMarker+"\n" }
	// skip moves i to the next entry marker or torn marker.
	skip := func(i int) int {
		for i < len(lines) && !isMarker(i) && !isTorn(i) {
			i++
		}
		return i
	}
	for i := 0; i < len(lines); {
		if isTorn(i) {
			if n := len(out); n > 0 {
				out[n-1].torn = true
			}
			i++
			continue
		}
		if !isMarker(i) {
			out = append(out, rawEntry{line: i + 1, err: fmt.Errorf("line %d: expected %q; the checkpoints file is damaged here", i+1, entryMarker)})
			i = skip(i)
			continue
		}
		e := rawEntry{line: i + 1}
		i++
		for i < len(lines) && !bytes.HasPrefix(lines[i], []byte(leavesMarker)) && !isMarker(i) && !isTorn(i) {
			e.msg = append(e.msg, lines[i]...)
			i++
		}
		if i < len(lines) && bytes.HasPrefix(lines[i], []byte(leavesMarker)) {
			n, err := strconv.Atoi(strings.TrimSpace(string(lines[i][len(leavesMarker):])))
			if err != nil || n < 0 {
				e.err = fmt.Errorf("line %d: leaves count %q is not a number", i+1, bytes.TrimSpace(lines[i]))
				out = append(out, e)
				i = skip(i + 1)
				continue
			}
			i++
			e.hasLeaves = true
			// Never trust the count for the allocation: at most one hash
			// a line that is left.
			e.leaves = make([]tlog.Hash, 0, min(n, len(lines)-i))
			for ; n > 0; n-- {
				if i >= len(lines) || isMarker(i) || isTorn(i) {
					break
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(lines[i]), "\n"))
				if err != nil || len(b) != tlog.HashSize || !bytes.HasSuffix(lines[i], []byte("\n")) {
					break
				}
				e.leaves = append(e.leaves, tlog.Hash(b))
				i++
			}
			if n > 0 {
				e.err = fmt.Errorf("line %d: the checkpoint's leaves are cut off or damaged at line %d", e.line, i+1)
				i = skip(i)
			}
		}
		out = append(out, e)
	}
	return out
}

// completeEntry reports whether data, from an entry marker on, holds one
// whole entry: a note ending in a signature line and, when it has them,
// all of its leaves.
func completeEntry(data []byte) bool {
	raws := splitEntries(data)
	if len(raws) != 1 || raws[0].err != nil || raws[0].torn {
		return false
	}
	_, err := note.Open(raws[0].msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	return errors.As(err, &unverified)
}

// readEntriesUnverified parses the entries of a checkpoints file without
// checking their signatures (the sealer reading its own file at start);
// damaged and torn entries are left out.
func readEntriesUnverified(data []byte) []entry {
	var out []entry
	for _, r := range splitEntries(data) {
		if r.err != nil || r.torn {
			continue
		}
		_, err := note.Open(r.msg, note.VerifierList())
		var unverified *note.UnverifiedNoteError
		if !errors.As(err, &unverified) {
			continue
		}
		cp, err := parseBody(unverified.Note.Text)
		if err != nil {
			continue
		}
		cp.Note = r.msg
		out = append(out, entry{Checkpoint: cp, leaves: r.leaves, hasLeaves: r.hasLeaves, line: r.line})
	}
	return out
}

// parseEntries reads the entries of a checkpoints file, verifying each
// signature with one of keys. It returns the entries it could read and an
// error for each it could not, naming source and line. An entry closed off
// by a torn marker is skipped, and counted in torn.
func parseEntries(data []byte, source string, keys []note.Verifier) (entries []entry, errs []error, torn int) {
	for _, r := range splitEntries(data) {
		if r.torn {
			torn++
			continue
		}
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s:%w", source, r.err))
			continue
		}
		cp, err := OpenCheckpoint(r.msg, keys...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: checkpoint: %w", source, r.line, err))
			continue
		}
		entries = append(entries, entry{Checkpoint: cp, leaves: r.leaves, hasLeaves: r.hasLeaves, source: source, line: r.line})
	}
	return entries, errs, torn
}
