// Package seal makes audit.log tamper-evident without changing a byte of
// it: every line is a leaf of an append-only Merkle tree (RFC 6962 hashing,
// the tree of Go's checksum database, from golang.org/x/mod/sumdb/tlog), and
// signed checkpoints of the tree (C2SP checkpoints in signed notes,
// golang.org/x/mod/sumdb/note, Ed25519) are written beside it to
// audit.log.checkpoints.
//
// A leaf is tlog.RecordHash of a line's bytes without its newline: the
// newline only separates records, so a file whose last line lost its newline
// still verifies, while any change to a line's content does not.
//
// The checkpoints chain: each names the file it covers (its number in the
// chain and its path) and the hash of the checkpoint signed before it, so the
// files logrotate leaves (audit.log.1, audit.log.2.gz...) are matched to their
// trees by content, not name, and a file missing from the middle of the chain
// is noticed. With each checkpoint the checkpoints file stores the hashes of
// the lines it added (about 45 bytes a line), so Verify names the first line
// that was altered, removed, inserted or moved, not only the checkpoint
// interval it is in; the signed root covers them.
//
// Each checkpoint's origin is LOG/N: the log name (WithOrigin, by default
// DefaultLogName: host and path of audit.log) and the file's number in the
// chain, so each file is a C2SP log whose tree only grows, and another
// host's files signed with the same key do not verify as this log's.
//
// Every start of a Sealer signs a checkpoint after comparing audit.log with
// the last one: a file that still holds every sealed line goes on
// ("resume", lines written after the last checkpoint before a crash marked
// adopted); a file changed while the service was stopped (a sealed line
// edited, removed or cut, a line added after a clean close, the file
// replaced) is recorded as a break, which verification reports for ever. The
// Sealer never signs what it cannot prove without saying so.
//
// The Sealer is the writing side; Verify is the checking side, used by
// "otelaudit verify". Verify's Report is OK only when every line of every
// file given is proven by a signed checkpoint and the chain is complete;
// lines after the last checkpoint of the file being written (Report.Tail)
// are the only lines that are unproven without being wrong.
//
// # Wiring it into the file exporter
//
// exporter.WithSealer does what follows, and otelaudit.New wires it when
// LOGGING_AUDIT_SEAL_KEY is set:
//
//   - New(settings' LOGGING_AUDIT_SEAL_KEY, audit.log's path,
//     WithCheckpointFunc(emit an AUDIT_LOG_CHECKPOINT record),
//     WithOrigin(LOGGING_AUDIT_SEAL_LOG_NAME), WithStrictKey(strict mode),
//     WithErrorLog(otel.Handle)) before the file exporter opens audit.log:
//     New reads the file as it is.
//   - The exporter starts its first write with a newline when audit.log
//     ends in a torn line, so that the fragment stays a line of its own
//     (New seals it as one and marks it).
//   - Append(b[:off]) by the writer after each write, with exactly the bytes
//     that reached the file, in file order. Append returns the tree number
//     and leaf index of the first line: the position a forwarded record can
//     carry.
//   - Rotate() whenever the exporter opens a different file than the one it
//     wrote to (Reopen after logrotate, or a write noticing that the path
//     names another file), after the old file's last Append and before the
//     new one's first. Not when Reopen opens the same file again.
//   - Close() in Shutdown, after the last write.
//   - AUDIT_LOG_CHECKPOINT records must not be written to audit.log (only
//     forwarded); the callback runs while the Sealer signs, so it must not
//     call the Sealer.
//   - A torn fragment the exporter could not cut off, ended by a newline
//     before the next line, is a line of the file: Append it with that
//     newline, or verify reports an inserted line there.
package seal
