package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/seal"
)

const verifyUsage = `usage: otelaudit verify -key NAME.pub [-key OLD.pub] [-log NAME] [-allow-tail] [-json] FILE...

Checks audit.log and its rotated files (plain or .gz, in any order, for
example /var/log/psono/audit.log*) against the signed checkpoints beside them
(audit.log.checkpoints). Checkpoints files given among the FILEs are read too,
such as the copy of the checkpoints the collector received: give it, because
only an off-host copy shows a rollback or a cut of the host's own files.

Exit status 0 means every line of every FILE is proven by a signed
checkpoint, and the chain of checkpoints is complete from its first to its
last. Lines sealed only when the service started (adopted: sealing began on
an existing file, or the service had stopped without closing) count as
proven and are listed. Files of the chain older than the oldest FILE given
(rotated away) are listed as not checked.

Exit status 1 for anything else: a line altered, removed, inserted or
reordered; a file cut off, missing from the chain, or covered by no
checkpoint; lines after the checkpoint that closed a file (rotate or close);
no checkpoint at all, or the checkpoints before the first missing; a damaged
or conflicting checkpoint; a break the sealer recorded when it found the
file changed while the service was stopped (for ever); checkpoints of
another log name. The first problem is named by file and line. The lines the
running service wrote to its active file after its last checkpoint (the
live tail) are not proven yet: they are reported apart, and give exit 1
unless -allow-tail is set.

Exit status 2: usage error, or a FILE that cannot be read or is not a
regular file.

The checkpoints name their log (by default this host's name and the
absolute path of audit.log); to verify copies from another host or folder,
give the name they were sealed under with -log.
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
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	allowTail := fs.Bool("allow-tail", false, "exit 0 when the only unproven lines are the live tail of the active file")
	logName := fs.String("log", "", "the log `NAME` the checkpoints must carry (default: this host's name and the absolute path of audit.log)")
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
	rep, err := seal.VerifyWith(fs.Args(), seal.VerifyOptions{Log: *logName}, verifiers...)
	if err != nil {
		fmt.Fprintf(stderr, "otelaudit verify: %v\n", err)
		return exitUsage
	}
	code := exitOK
	if len(rep.Problems) > 0 || len(rep.Tail) > 0 && !*allowTail {
		code = exitFailed
	}
	if *asJSON {
		out := struct {
			*seal.Report
			Intact bool `json:"intact"`
			Exit   int  `json:"exit"`
		}{rep, code == exitOK, code}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "otelaudit verify: %v\n", err)
			return exitUsage
		}
		return code
	}
	printReport(stdout, rep, *quiet)
	switch {
	case len(rep.Problems) > 0:
		fmt.Fprintf(stderr, "otelaudit verify: NOT INTACT: %d problem(s); the first: %s\n", len(rep.Problems), escaped(rep.Problems[0].String()))
	case code != exitOK:
		fmt.Fprintf(stderr, "otelaudit verify: NOT PROVEN YET: %d file(s) end in lines after the last checkpoint (the live tail); run again after the next checkpoint, or give -allow-tail\n", len(rep.Tail))
	case !*quiet:
		var lines, proven, adopted int64
		for _, f := range rep.Files {
			lines += f.Lines
			proven += f.Proven
			adopted += f.Adopted
		}
		msg := fmt.Sprintf("intact: %d files, %d of %d lines proven by %d checkpoints", len(rep.Files), proven, lines, rep.Checkpoints)
		if adopted > 0 {
			msg += fmt.Sprintf(" (%d adopted at a start)", adopted)
		}
		if n := len(rep.Tail); n > 0 {
			msg += fmt.Sprintf("; the live tail of %d file(s) not proven yet", n)
		}
		fmt.Fprintln(stdout, msg)
	}
	return code
}

// printReport prints the report as text; with quiet, only the problems.
func printReport(w io.Writer, rep *seal.Report, quiet bool) {
	p := func(format string, args ...any) { fmt.Fprint(w, escaped(fmt.Sprintf(format, args...))+"\n") }
	if !quiet {
		if rep.Log != "" {
			p("log: %s", rep.Log)
		}
		for _, f := range rep.Files {
			if f.Tree == 0 {
				p("%s: %d lines, not covered by any checkpoint", f.Path, f.Lines)
				continue
			}
			p("%s: file %d of the chain, %d of %d lines proven", f.Path, f.Tree, f.Proven, f.Lines)
		}
		for _, s := range rep.Adopted {
			p("adopted: %s", s)
		}
		for _, s := range rep.Unchecked {
			p("not checked: %s", s)
		}
		for _, s := range rep.Notes {
			p("note: %s", s)
		}
		for _, s := range rep.Tail {
			p("not proven yet (live tail): %s", s)
		}
	}
	for _, pr := range rep.Problems {
		p("PROBLEM: %s", pr)
	}
}
