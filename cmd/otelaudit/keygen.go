package main

import (
	"context"
	"fmt"
	"io"

	"github.com/otelaudit/otelaudit/seal"
)

const keygenUsage = `usage: otelaudit keygen [-dir DIR] NAME

Writes a new Ed25519 key pair for sealing audit logs: NAME.key, the private
key (mode 0600; the service signs with it, set LOGGING_AUDIT_SEAL_KEY to its
path), and NAME.pub, the public key (give it to whoever verifies). NAME names
the log in every checkpoint, for example psono-audit-prod. Existing files are
never overwritten.
`

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", keygenUsage, stderr)
	dir := fs.String("dir", ".", "write the key files to `DIR`")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, stderr, "want exactly one NAME, got %d arguments", fs.NArg())
	}
	keyPath, pubPath, err := seal.WriteKeyFiles(*dir, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "otelaudit keygen: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "private key: %s (keep it on the audited host only, readable by the service)\npublic key:  %s\n", keyPath, pubPath)
	return exitOK
}
