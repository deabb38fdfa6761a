package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	fileexp "github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/seal"
)

// gaps -logs: the host's files, compared with what arrived.
//
// Each file given is placed in the chain of its origin: by the chain file
// beside it (audit.chain, written by the file exporter without a sealer:
// the file's number by its device and inode), by FILE=NUMBER, or else by
// its place among the files given, newest (last modified) first: a file
// without a number takes the number below the next newer file's, and the
// newest file, when nothing places it, the highest file number that arrived
// of the origin (or the size of a checkpoint names). Then every line of the
// file is looked up among the positions that arrived.

// hostFile is one file of the host's audit log given with -logs.
type hostFile struct {
	Path    string   `json:"path"`
	Tree    int64    `json:"tree"`
	Lines   int64    `json:"lines"`
	Missing []string `json:"missing,omitempty"` // index ranges that never arrived
	missing []int64
	mtime   int64
	key     string
	placed  bool
	text    map[int64]string // the first missing lines, to show
}

// logList is the repeatable -logs flag: paths or glob patterns, each
// optionally FILE=NUMBER.
type logList []string

func (l *logList) String() string     { return strings.Join(*l, ",") }
func (l *logList) Set(v string) error { *l = append(*l, v); return nil }

// maxShown bounds the missing lines printed per file.
const maxShown = 20

// expandLogs returns the host files the -logs values name, newest first;
// checkpoints, chain and spool files matched by a pattern are left out.
func expandLogs(values []string) ([]*hostFile, error) {
	var files []*hostFile
	seen := map[string]bool{}
	for _, v := range values {
		tree := int64(0)
		if i := strings.LastIndexByte(v, '='); i > 0 {
			if n, err := strconv.ParseInt(v[i+1:], 10, 64); err == nil && n > 0 {
				v, tree = v[:i], n
			}
		}
		matches, err := filepath.Glob(v)
		if err != nil {
			return nil, err
		}
		explicit := len(matches) == 0 || (len(matches) == 1 && matches[0] == v)
		if len(matches) == 0 {
			matches = []string{v} // reported as missing when opened
		}
		for _, m := range matches {
			if !explicit && skipLog(m) {
				continue
			}
			if seen[m] {
				continue
			}
			seen[m] = true
			fi, err := os.Stat(m)
			if err != nil {
				return nil, err
			}
			h := &hostFile{Path: m, Tree: tree, placed: tree > 0, mtime: fi.ModTime().UnixNano(), key: fileexp.FileKey(fi)}
			files = append(files, h)
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].mtime > files[j].mtime })
	return files, nil
}

// skipLog reports a file beside audit.log that a pattern such as audit.*
// matches but is not one of its files.
func skipLog(path string) bool {
	for _, s := range []string{seal.CheckpointsSuffix, fileexp.ChainSuffix, ".spool", ".lock"} {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return false
}

// placeFiles gives each file its number in the chain (see the top of this
// file); highest is the highest file number the origin's records name.
func placeFiles(files []*hostFile, highest int64) {
	for _, h := range files {
		if h.placed || h.key == "" {
			continue
		}
		entries, err := fileexp.ReadChain(fileexp.ChainPath(h.Path))
		if err != nil {
			continue
		}
		for i := len(entries) - 1; i >= 0; i-- {
			if entries[i].Key == h.key {
				h.Tree, h.placed = entries[i].File, true
				break
			}
		}
	}
	// Count down from the nearest newer file placed, or from highest.
	next := highest
	for _, h := range files {
		if h.placed {
			next = h.Tree - 1
			continue
		}
		h.Tree, h.placed = next, next > 0
		next--
	}
}

// compareFile reads the lines of h and keeps those whose position never
// arrived in o. A line is what the file exporter counts: the text up to a
// newline, or a fragment the file ends in.
func compareFile(h *hostFile, o *gapsOrigin) error {
	r, err := seal.OpenLog(h.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); seal.IsCheckpoints(head) {
		return fmt.Errorf("a checkpoints file, not an audit log")
	}
	seen := o.seen[h.Tree]
	h.text = map[int64]string{}
	for i := int64(0); ; i++ {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // a long line: read on to its end
			var more []byte
			more, err = br.ReadSlice('\n')
			if len(line) < 512 {
				line = append(line, more...)
			}
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		h.Lines++
		if seen[i] == 0 && h.placed {
			h.missing = append(h.missing, i)
			if len(h.text) < maxShown {
				h.text[i] = strings.TrimRight(string(line[:min(len(line), 512)]), "\n")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ranges writes indexes (ascending) as ranges: 3,5-9.
func ranges(idx []int64) []string {
	var out []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		s := strconv.FormatInt(idx[i], 10)
		if j > i {
			s += "-" + strconv.FormatInt(idx[j], 10)
		}
		out = append(out, s)
		i = j + 1
	}
	return out
}

// highestTree returns the highest file number o's records or checkpoints
// name.
func highestTree(o *gapsOrigin) int64 {
	var t int64
	for n := range o.seen {
		t = max(t, n)
	}
	for n := range o.sizes {
		t = max(t, n)
	}
	return t
}

// chooseOrigin returns the origin the host files belong to: the one given,
// else the default log name of the newest file's path when it arrived,
// else the only origin that arrived.
func chooseOrigin(given string, files []*hostFile, origins map[string]*gapsOrigin) (string, error) {
	if given != "" {
		return given, nil
	}
	if len(files) > 0 {
		if n := seal.DefaultLogName(files[0].Path); origins[n] != nil {
			return n, nil
		}
	}
	var names []string
	for n := range origins {
		if n != noOriginOrigin {
			names = append(names, n)
		}
	}
	if len(names) == 1 {
		return names[0], nil
	}
	sort.Strings(names)
	return "", fmt.Errorf("the host files' origin is not among those that arrived (%s): name it with -origin", strings.Join(names, ", "))
}

// checkHostFiles compares the host files with the origin's records, prints
// what never arrived (unless asJSON), and reports whether a line is missing.
func checkHostFiles(w io.Writer, files []*hostFile, o *gapsOrigin, asJSON bool) (missing bool, err error) {
	placeFiles(files, highestTree(o))
	for i := len(files) - 1; i >= 0; i-- { // oldest first
		h := files[i]
		if !h.placed {
			return false, fmt.Errorf("%s: its number in the chain is not known (no audit.chain beside it, nothing newer placed): give it as %s=NUMBER", h.Path, h.Path)
		}
		if err := compareFile(h, o); err != nil {
			return false, fmt.Errorf("%s: %w", h.Path, err)
		}
		h.Missing = ranges(h.missing)
		missing = missing || len(h.missing) > 0
		if asJSON {
			continue
		}
		fmt.Fprintf(w, "  host file %s (file %d): %d line(s), %d never arrived", h.Path, h.Tree, h.Lines, len(h.missing))
		if len(h.missing) > 0 {
			fmt.Fprintf(w, ": lines %s", strings.Join(h.Missing, ","))
		}
		fmt.Fprintln(w)
		for _, idx := range h.missing[:min(len(h.missing), maxShown)] {
			note := ""
			if o.announced[h.Tree][idx] {
				note = " (dropped by the spool, announced)"
			}
			fmt.Fprintf(w, "    %d:%d%s %s\n", h.Tree, idx, note, h.text[idx])
		}
		if len(h.missing) > maxShown {
			fmt.Fprintf(w, "    ... and %d more\n", len(h.missing)-maxShown)
		}
	}
	return missing, nil
}
