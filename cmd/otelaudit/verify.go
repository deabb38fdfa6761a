package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/seal"
)

const verifyUsage = `usage: otelaudit verify -key NAME.pub [-key OLD.pub] FILE...

Checks audit.log and its rotated files (plain or .gz, in any order, for
example /var/log/psono/audit.log*) against the signed checkpoints beside them
(audit.log.checkpoints). Checkpoints files given among the FILEs are read too,
such as a copy of the checkpoints the collector received.

Exit status 0: every file is intact (lines after the last checkpoint are
listed as not proven); 1: a line was altered, removed, inserted or reordered,
a file was cut off after a checkpoint, a rotated file is missing from the
middle of the chain, or a checkpoint is damaged or conflicts with another; the
first problem is named by file and line; 2: usage error or unreadable file.
`

// keyList is a repeatable -key flag.
type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(s string) error { *k = append(*k, s); return nil }

func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage, stderr)
	var keys keyList
	fs.Var(&keys, "key", "public key `FILE` (NAME.pub); repeat it for checkpoints signed before a key rotation")
	quiet := fs.Bool("q", false, "print only problems")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if len(keys) == 0 {
		return usageError(fs, stderr, "-key is required")
	}
	if fs.NArg() == 0 {
		return usageError(fs, stderr, "no FILE given")
	}
	var verifiers []note.Verifier
	for _, k := range keys {
		v, err := seal.LoadVerifier(k)
		if err != nil {
			fmt.Fprintf(stderr, "otelaudit verify: %v\n", err)
			return exitUsage
		}
		verifiers = append(verifiers, v)
	}
	rep, err := seal.Verify(fs.Args(), verifiers...)
	if err != nil {
		fmt.Fprintf(stderr, "otelaudit verify: %v\n", err)
		return exitUsage
	}
	var lines, proven int64
	for _, f := range rep.Files {
		lines += f.Lines
		proven += f.Proven
		if *quiet {
			continue
		}
		if f.Tree == 0 {
			fmt.Fprintf(stdout, "%s: %d lines, not covered by any checkpoint\n", f.Path, f.Lines)
			continue
		}
		fmt.Fprintf(stdout, "%s: file %d of the chain, %d of %d lines proven\n", f.Path, f.Tree, f.Proven, f.Lines)
	}
	if !*quiet {
		for _, u := range rep.Unproven {
			fmt.Fprintf(stdout, "not proven: %s\n", u)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
	}
	if !rep.OK() {
		fmt.Fprintf(stderr, "otelaudit verify: NOT INTACT: %d problem(s); the first: %s\n", len(rep.Problems), rep.Problems[0])
		return exitFailed
	}
	if !*quiet {
		fmt.Fprintf(stdout, "intact: %d files, %d of %d lines proven by %d checkpoints\n", len(rep.Files), proven, lines, rep.Checkpoints)
	}
	return exitOK
}
