package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/otelaudit/otelaudit/seal"
)

const keygenUsage = `usage: otelaudit keygen [-dir DIR] NAME

Writes a new Ed25519 key pair for sealing audit logs: NAME.key, the private
key (mode 0600; the service signs with it, set LOGGING_AUDIT_SEAL_KEY to its
path), and NAME.pub, the public key (give it to whoever verifies), both in
DIR. NAME names the log in every checkpoint, for example psono-audit-prod:
printable ASCII without spaces or '+', and a plain file name (no '/' or '\',
no ".."), so that the files are written in DIR and nowhere else. Existing
files are never overwritten.
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
	name := fs.Arg(0)
	if err := checkKeyName(name); err != nil {
		return usageError(fs, stderr, "%s", escaped(err.Error()))
	}
	keyPath, pubPath, err := seal.WriteKeyFiles(*dir, name)
	if err != nil {
		fmt.Fprintf(stderr, "otelaudit keygen: %s\n", escaped(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(stdout, "private key: %s (keep it on the audited host only, readable by the service)\npublic key:  %s\n", escaped(keyPath), escaped(pubPath))
	return exitOK
}

// checkKeyName refuses a NAME that would put the key files outside -dir:
// one with a path separator (either, whatever the system) or "..", and the
// empty name and ".".
func checkKeyName(name string) error {
	switch {
	case name == "" || name == ".":
		return fmt.Errorf("NAME %q: want a name such as psono-audit-prod", name)
	case strings.ContainsAny(name, `/\`), strings.Contains(name, ".."):
		return fmt.Errorf("NAME %q: a key name is a plain file name, without '/', '\\' or \"..\": the files are written in -dir and nowhere else", name)
	}
	return nil
}
