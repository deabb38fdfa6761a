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
// The Sealer is the writing side (the file exporter calls Append, Rotate and
// Close); Verify is the checking side, used by "otelaudit verify".
package seal
