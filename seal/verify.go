package seal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Problem is evidence that a sealed log was altered, or that a line given
// cannot be proven: a line changed, removed, inserted or moved, a file cut
// off after a checkpoint, missing from the chain or covered by no
// checkpoint, lines added to a file after its closing checkpoint, a damaged,
// missing or conflicting checkpoint, or a break the sealer recorded.
type Problem struct {
	// File is the file the problem was found in ("" when it is about the
	// chain as a whole).
	File string `json:"file,omitempty"`
	// Line is the line of File (from 1), or 0.
	Line int64 `json:"line,omitempty"`
	// Msg says what is wrong.
	Msg string `json:"message"`

	tree int64 // for ordering
}

func (p Problem) String() string {
	switch {
	case p.File == "":
		return p.Msg
	case p.Line == 0:
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// A FileResult tells how one audit log file was matched and proven.
type FileResult struct {
	// Path is the file as given.
	Path string `json:"path"`
	// Tree is the number of the chain's file it holds; 0 when no
	// checkpoint covers it.
	Tree int64 `json:"tree"`
	// Lines is the number of lines the file holds.
	Lines int64 `json:"lines"`
	// Proven is the number of its first lines a signed checkpoint proves.
	Proven int64 `json:"proven"`
	// Adopted is how many of the proven lines were sealed only when the
	// sealer started, not when they were written (see Checkpoint.Adopted).
	Adopted int64 `json:"adopted"`
	// Tail is the number of lines after the last checkpoint of the file the
	// service is writing (see Report.Tail).
	Tail int64 `json:"tail"`
}

// A Report is the outcome of Verify.
//
// Every line of every file given is proven when OK reports true. Otherwise
// Problems lists what is wrong, and Tail the only lines that may be
// unproven without anything being wrong: those the running service wrote to
// its active file after the last checkpoint, which the next one seals.
type Report struct {
	// Log is the log name the checkpoints carry (see DefaultLogName).
	Log string `json:"log"`
	// Problems lists every problem found, the first one (in chain order)
	// first.
	Problems []Problem `json:"problems"`
	// Tail describes the lines of the active file written after its last
	// checkpoint while the service runs: not proven yet, not wrong.
	Tail []string `json:"tail"`
	// Adopted describes proven lines that were sealed only when the sealer
	// started (sealing started on an existing file, or the service had
	// stopped without closing): proven from then on, not from when they
	// were written.
	Adopted []string `json:"adopted"`
	// Unchecked names files of the chain that were not given and come
	// before the oldest one given: rotated away and removed. Nothing given
	// is unproven because of them.
	Unchecked []string `json:"unchecked"`
	// Notes says what else was seen, such as a checkpoint write cut off by
	// a crash and signed again, or the remains of a cut-off line.
	Notes []string `json:"notes"`
	// Files has one result per audit log file given, in chain order.
	Files []FileResult `json:"files"`
	// Checkpoints is the number of distinct checkpoints in the chain.
	Checkpoints int `json:"checkpoints"`
}

// OK reports whether every line of every file given is proven: no problem,
// and no line after the last checkpoint.
func (r *Report) OK() bool { return len(r.Problems) == 0 && len(r.Tail) == 0 }

// treeInfo is what the checkpoints say about one file of the chain.
type treeInfo struct {
	num     int64
	cps     []*entry // in chain order
	full    fullTree // the leaves, as far as known
	known   bool     // full holds every leaf up to the last checkpoint
	maxSize int64
	adopted []adoption
}

// adoption is a run of lines a checkpoint adopted: lines from+1 to to.
type adoption struct {
	from, to int64
	cp       *entry
}

// VerifyOptions adjusts VerifyWith.
type VerifyOptions struct {
	// Log is the log name the checkpoints must carry. "" means the name
	// the sealer gives by default to the audit log beside the files given
	// (DefaultLogName of that path, on this host): verifying copies from
	// another host or folder needs the name they were sealed under.
	Log string
}

// Verify is VerifyWith with the default options.
func Verify(paths []string, keys ...note.Verifier) (*Report, error) {
	return VerifyWith(paths, VerifyOptions{}, keys...)
}

// VerifyWith checks audit log files against their checkpoints, verifying
// the signatures with the given public keys (several when the key was
// rotated).
//
// paths are audit.log and its rotated files, plain or gzip-compressed, in any
// order, and may include checkpoints files (recognised by their content),
// also copies from elsewhere, such as the checkpoints the collector received.
// The checkpoints file beside each log file is read too (audit.log.checkpoints
// beside audit.log, audit.log.1 or audit.log.2.gz). A checkpoint found in
// several files counts once.
//
// The error is for files that cannot be read (or are not regular files);
// everything found in their content is in the Report.
func VerifyWith(paths []string, o VerifyOptions, keys ...note.Verifier) (*Report, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: verify: no public key given")
	}
	var logs, cpFiles []string
	for _, p := range paths {
		isCP, err := sniff(p)
		if err != nil {
			return nil, err
		}
		if isCP {
			cpFiles = append(cpFiles, p)
		} else {
			logs = append(logs, p)
		}
	}
	seen := map[string]bool{}
	for _, p := range cpFiles {
		seen[filepath.Clean(p)] = true
	}
	beside := ""
	for _, p := range logs {
		if cp := besideCheckpoints(p); cp != "" {
			if beside == "" {
				beside = cp
			}
			if !seen[cp] {
				seen[cp] = true
				cpFiles = append(cpFiles, cp)
			}
		}
	}
	// Empty lists, not nil: -json prints [] rather than null.
	rep := &Report{Log: o.Log, Problems: []Problem{}, Tail: []string{}, Adopted: []string{},
		Unchecked: []string{}, Notes: []string{}}
	if rep.Log == "" {
		switch {
		case beside != "":
			rep.Log = DefaultLogName(strings.TrimSuffix(beside, CheckpointsSuffix))
		case len(logs) > 0:
			rep.Log = DefaultLogName(filepath.Join(filepath.Dir(logs[0]), "audit.log"))
		}
	}
	if len(cpFiles) == 0 {
		rep.Problems = append(rep.Problems, Problem{Msg: "no checkpoints file given or found beside the logs (audit.log.checkpoints): nothing proves these files; give its path, or the collector's copy"})
	}
	var all []*entry
	for _, p := range cpFiles {
		data, err := readAll(p)
		if err != nil {
			return nil, err
		}
		entries, errs, torn := parseEntries(data, p, keys)
		for _, err := range errs {
			rep.Problems = append(rep.Problems, Problem{Msg: err.Error()})
		}
		if torn > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d checkpoint write(s) cut off part way (a crash or a full disk) and closed off by the sealer; their lines were sealed again by the next checkpoint", p, torn))
		}
		for i := range entries {
			all = append(all, &entries[i])
		}
	}
	chain := rep.chain(all)
	rep.Checkpoints = len(chain)
	if len(cpFiles) > 0 && len(chain) == 0 {
		rep.Problems = append(rep.Problems, Problem{Msg: "the checkpoints files given hold no valid checkpoint: nothing proves these files (emptied or replaced?)"})
	}
	rep.checkOrigins(chain, o.Log != "")
	trees := rep.trees(chain)

	results := make([]FileResult, len(logs))
	hashes := make([][]tlog.Hash, len(logs))
	for i, p := range logs {
		h, err := lineHashes(p)
		if err != nil {
			return nil, fmt.Errorf("seal: verify: %w", err)
		}
		hashes[i] = h
		results[i] = FileResult{Path: p, Lines: int64(len(h))}
	}
	match := matchFiles(hashes, trees)
	matchedTree := map[int64]int{}
	var lastTree int64
	if n := len(trees); n > 0 {
		lastTree = trees[n-1].num
		matchActive(match, logs, hashes, trees[n-1])
	}
	for i, t := range match {
		if t != nil {
			results[i].Tree = t.num
			matchedTree[t.num] = i
			rep.checkFile(&results[i], hashes[i], t, t.num == lastTree)
		} else if len(hashes[i]) > 0 {
			rep.Problems = append(rep.Problems, Problem{File: logs[i], Line: 1, tree: 1 << 62,
				Msg: fmt.Sprintf("no checkpoint covers any of its %d lines: not sealed (written while sealing was off, by another host or key, or fabricated)", len(hashes[i]))})
		}
	}
	var first, last int64 = -1, -1
	for _, t := range trees {
		if _, ok := matchedTree[t.num]; ok {
			if first < 0 {
				first = t.num
			}
			last = t.num
		}
	}
	for _, t := range trees {
		if _, ok := matchedTree[t.num]; ok || t.maxSize == 0 {
			continue
		}
		lastCP := t.cps[len(t.cps)-1]
		desc := fmt.Sprintf("file %d of the chain (%d lines sealed, last checkpoint %s:%d, written as %s)", t.num, t.maxSize, lastCP.source, lastCP.line, lastCP.File)
		switch {
		case first >= 0 && t.num < first:
			rep.Unchecked = append(rep.Unchecked, desc+" was not given: rotated away before the oldest file given; not checked")
		case first >= 0 && t.num < last:
			rep.Problems = append(rep.Problems, Problem{tree: t.num, Msg: desc + " is missing from the middle of the chain: a rotated file was removed (or altered beyond recognition)"})
		default:
			rep.Problems = append(rep.Problems, Problem{tree: t.num, Msg: desc + " is missing: no given file holds its lines (removed or replaced?)"})
		}
	}
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i].Tree, results[j].Tree
		if a == 0 {
			a = 1 << 62
		}
		if b == 0 {
			b = 1 << 62
		}
		return a < b
	})
	rep.Files = results
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].tree < rep.Problems[j].tree })
	return rep, nil
}

// checkOrigins reports checkpoints of another log than rep.Log: another
// host's or folder's, signed with the same key.
func (rep *Report) checkOrigins(chain []*entry, given bool) {
	reported := map[string]bool{}
	for _, e := range chain {
		if e.Origin == TreeOrigin(rep.Log, e.Tree) || reported[e.Origin] {
			continue
		}
		reported[e.Origin] = true
		hint := "give -log with the name it was sealed under to verify a copy from elsewhere"
		if given {
			hint = "check -log"
		}
		rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: e.Tree,
			Msg: fmt.Sprintf("checkpoint of log %q, file %d, where %q was expected: another host's or folder's checkpoints, signed with the same key (%s)", e.Origin, e.Tree, TreeOrigin(rep.Log, e.Tree), hint)})
	}
}

// sniff reports whether the file at path is a checkpoints file.
func sniff(path string) (bool, error) {
	r, err := OpenLog(path)
	if err != nil {
		return false, fmt.Errorf("seal: verify: %w", err)
	}
	defer r.Close()
	buf := make([]byte, len(entryMarker)+1)
	n, _ := io.ReadFull(r, buf)
	return IsCheckpoints(buf[:n]), nil
}

func readAll(path string) ([]byte, error) {
	r, err := OpenLog(path)
	if err != nil {
		return nil, fmt.Errorf("seal: verify: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("seal: verify: read %s: %w", path, err)
	}
	return b, nil
}

// besideCheckpoints returns the checkpoints file beside the log at path:
// audit.log.checkpoints for audit.log, audit.log.1, audit.log.2.gz or
// audit.log-20261129.gz, or "" when there is none.
func besideCheckpoints(path string) string {
	dir, name := filepath.Split(path)
	for name != "" {
		if p := filepath.Join(dir, name+CheckpointsSuffix); fileExists(p) {
			return p
		}
		i := strings.LastIndexAny(name, ".-")
		if i <= 0 {
			break
		}
		name = name[:i]
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// chain orders the checkpoints by their prev links and reports forks and
// gaps. Copies of one checkpoint (the host's and the collector's) count once;
// the copy with its leaves is kept.
func (rep *Report) chain(all []*entry) []*entry {
	byHash := map[tlog.Hash]*entry{}
	var uniq []*entry
	for _, e := range all {
		h := e.Hash()
		if old, ok := byHash[h]; ok {
			if !old.hasLeaves && e.hasLeaves {
				*old = *e
			}
			continue
		}
		byHash[h] = e
		uniq = append(uniq, e)
	}
	next := map[tlog.Hash][]*entry{}
	var starts []*entry
	for _, e := range uniq {
		if _, ok := byHash[e.Prev]; ok {
			next[e.Prev] = append(next[e.Prev], e)
		} else {
			starts = append(starts, e)
		}
	}
	if len(starts) == 0 {
		return nil
	}
	sort.SliceStable(starts, func(i, j int) bool { return before(starts[i], starts[j]) })
	start := starts[0]
	if start.Prev != (tlog.Hash{}) {
		rep.Problems = append(rep.Problems, Problem{File: start.source, Line: int64(start.line), tree: start.Tree,
			Msg: "the chain starts here, but this checkpoint follows another: the checkpoints before it are missing (the head of the checkpoints file was cut, or it was deleted or replaced while the service ran)"})
	}
	for _, e := range starts[1:] {
		msg := "this checkpoint follows one that is not in the checkpoints given: checkpoints were removed from the middle of the chain"
		if e.Prev == (tlog.Hash{}) {
			msg = "a second chain starts here: sealing started afresh, without the checkpoints before it (the checkpoints file was deleted or emptied)"
		}
		rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: e.Tree, Msg: msg})
	}
	var chain []*entry
	for e := start; e != nil; {
		chain = append(chain, e)
		kids := next[e.Hash()]
		if len(kids) == 0 {
			break
		}
		if len(kids) > 1 {
			sort.SliceStable(kids, func(i, j int) bool { return before(kids[i], kids[j]) })
			for _, k := range kids[1:] {
				rep.Problems = append(rep.Problems, Problem{File: k.source, Line: int64(k.line), tree: k.Tree,
					Msg: fmt.Sprintf("this checkpoint and the one at %s:%d both follow the same checkpoint: the chain was rewritten (compare with the collector's copy)", kids[0].source, kids[0].line)})
			}
		}
		e = kids[0]
	}
	return chain
}

func before(a, b *entry) bool {
	if a.Tree != b.Tree {
		return a.Tree < b.Tree
	}
	if a.Size != b.Size {
		return a.Size < b.Size
	}
	return a.Time.Before(b.Time)
}

// trees groups the chain's checkpoints by file and checks that each file's
// checkpoints describe one append-only tree whose leaves (stored in the
// checkpoints file) have the signed roots.
func (rep *Report) trees(chain []*entry) []*treeInfo {
	var trees []*treeInfo
	for _, e := range chain {
		if n := len(trees); n > 0 && trees[n-1].num == e.Tree {
			t := trees[n-1]
			prev := t.cps[len(t.cps)-1]
			if e.Size < prev.Size {
				rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: e.Tree,
					Msg: fmt.Sprintf("checkpoint of %d lines follows one of %d lines of the same file: a sealed file never shrinks", e.Size, prev.Size)})
				continue
			}
			t.cps = append(t.cps, e)
			continue
		} else if n > 0 && e.Tree != trees[n-1].num+1 {
			rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: e.Tree,
				Msg: fmt.Sprintf("checkpoint of file %d follows one of file %d: the chain skips files", e.Tree, trees[n-1].num)})
		}
		trees = append(trees, &treeInfo{num: e.Tree, cps: []*entry{e}, known: true})
	}
	for _, t := range trees {
		var prevCP *entry
		for _, e := range t.cps {
			t.maxSize = e.Size
			if e.Break != "" {
				rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: t.num,
					Msg: fmt.Sprintf("the sealer found, when it started at %s: %s", e.Time.UTC().Format(time.RFC3339), e.Break)})
			}
			if e.Adopted > 0 {
				t.adopted = append(t.adopted, adoption{from: e.Size - e.Adopted, to: e.Size, cp: e})
			}
			if e.Fragment > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("line %d of file %d of the chain is the remains of a write cut off by a crash (checkpoint %s:%d), not a record", e.Fragment, t.num, e.source, e.line))
			}
			if t.known && e.hasLeaves && int64(len(t.full.leaves))+int64(len(e.leaves)) == e.Size {
				for _, h := range e.leaves {
					t.full.add(h)
				}
			} else if t.known && (e.hasLeaves || int64(len(t.full.leaves)) != e.Size) {
				if e.hasLeaves {
					rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: t.num,
						Msg: fmt.Sprintf("checkpoint lists %d new line hashes, but its tree grew from %d to %d lines: the checkpoints file was altered", len(e.leaves), len(t.full.leaves), e.Size)})
				}
				t.known = false
			}
			if t.known && t.full.root(e.Size) != e.Root {
				rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: t.num,
					Msg: "the line hashes stored with the checkpoints do not have the signed root: the checkpoints file was altered"})
				t.known = false
			}
			if t.known && prevCP != nil && prevCP.Size > 0 {
				// The tree only grew: the tlog consistency proof between the two roots.
				proof, err := tlog.ProveTree(e.Size, prevCP.Size, &t.full)
				if err == nil {
					err = tlog.CheckTree(proof, e.Size, e.Root, prevCP.Size, prevCP.Root)
				}
				if err != nil {
					rep.Problems = append(rep.Problems, Problem{File: e.source, Line: int64(e.line), tree: t.num,
						Msg: fmt.Sprintf("checkpoint is not an extension of the one at %s:%d: %v", prevCP.source, prevCP.line, err)})
				}
			}
			prevCP = e
		}
	}
	return trees
}

// matchFiles assigns each file the tree whose lines it holds, by content:
// first by a signed root its lines have, then by the longest run of equal
// first lines, then by the most lines in common.
func matchFiles(files [][]tlog.Hash, trees []*treeInfo) []*treeInfo {
	type cand struct {
		file  int
		tree  *treeInfo
		score int64
	}
	var cands []cand
	for i, hs := range files {
		if len(hs) == 0 {
			continue
		}
		var ft fullTree
		for _, h := range hs {
			ft.add(h)
		}
		for _, t := range trees {
			if t.maxSize == 0 {
				continue
			}
			var score int64
			for _, e := range t.cps {
				if e.Size > 0 && e.Size <= int64(len(hs)) && ft.root(e.Size) == e.Root {
					score = 3<<40 + e.Size
				}
			}
			if score == 0 && len(t.full.leaves) > 0 {
				n := 0
				for n < len(hs) && n < len(t.full.leaves) && hs[n] == t.full.leaves[n] {
					n++
				}
				if n > 0 {
					score = 2<<40 + int64(n)
				} else {
					set := make(map[tlog.Hash]bool, len(t.full.leaves))
					for _, h := range t.full.leaves {
						set[h] = true
					}
					for _, h := range hs {
						if set[h] {
							score++
						}
					}
				}
			}
			if score > 0 {
				cands = append(cands, cand{i, t, score})
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	match := make([]*treeInfo, len(files))
	taken := map[*treeInfo]bool{}
	for _, c := range cands {
		if match[c.file] == nil && !taken[c.tree] {
			match[c.file] = c.tree
			taken[c.tree] = true
		}
	}
	return match
}

// matchActive gives the chain's last file, when no given file matched it by
// content because none of its lines is sealed yet (the service started it,
// and has signed no checkpoint since: a new file after a rotation, or a
// first start), the given file that holds its live tail: the one at the
// path its checkpoints name, else the only given file no tree matched.
func matchActive(match []*treeInfo, logs []string, hashes [][]tlog.Hash, t *treeInfo) {
	lastCP := t.cps[len(t.cps)-1]
	if t.maxSize != 0 || lastCP.Reason == "close" || lastCP.Reason == "rotate" {
		return
	}
	for _, m := range match {
		if m == t {
			return
		}
	}
	want, _ := filepath.Abs(lastCP.File)
	only := -1
	for i := range logs {
		if match[i] != nil || len(hashes[i]) == 0 {
			continue
		}
		if abs, err := filepath.Abs(logs[i]); err == nil && abs == want {
			match[i] = t
			return
		}
		if only == -1 {
			only = i
		} else {
			only = -2
		}
	}
	if only >= 0 {
		match[only] = t
	}
}

// checkFile proves the lines of one file with its tree's checkpoints, or
// names the first line that differs, and fills in res. active tells that
// the tree is the last of the chain, the file the service may be writing.
func (rep *Report) checkFile(res *FileResult, hs []tlog.Hash, t *treeInfo, active bool) {
	path := res.Path
	var ft fullTree
	for _, h := range hs {
		ft.add(h)
	}
	lastCP := t.cps[len(t.cps)-1]
	n := lastCP.Size
	bad := func(line int64, msg string) {
		rep.Problems = append(rep.Problems, Problem{File: path, Line: line, tree: t.num, Msg: msg})
	}
	res.Proven = func() int64 {
		if int64(len(hs)) >= n && ft.root(n) == lastCP.Root {
			return n
		}
		if t.known {
			i := firstDiff(hs, t.full.leaves[:n])
			bad(int64(i)+1, describeDiff(hs, t.full.leaves[:n], i, fmt.Sprintf("the checkpoint at %s:%d", lastCP.source, lastCP.line)))
			return int64(i)
		}
		// Without the stored line hashes, the checkpoints narrow it down.
		var from int64
		for _, e := range t.cps {
			if e.Size > int64(len(hs)) {
				bad(int64(len(hs))+1, fmt.Sprintf("the file ends after %d lines, but the checkpoint at %s:%d sealed %d: lines were removed or the file was cut off", len(hs), e.source, e.line, e.Size))
				return from
			}
			if ft.root(e.Size) != e.Root {
				bad(from+1, fmt.Sprintf("a line from here to line %d differs from what the checkpoint at %s:%d sealed (its line hashes were not given, so the line cannot be named more exactly)", e.Size, e.source, e.line))
				return from
			}
			from = e.Size
		}
		return from
	}()
	for _, a := range t.adopted {
		if a.to <= res.Proven {
			res.Adopted += a.to - a.from
			rep.Adopted = append(rep.Adopted, fmt.Sprintf("%s: lines %d to %d were sealed when the sealer started (%s:%d, %s), not when they were written", path, a.from+1, a.to, a.cp.source, a.cp.line, a.cp.Time.UTC().Format(time.RFC3339)))
		}
	}
	extra := int64(len(hs)) - n
	if res.Proven < n || extra <= 0 {
		return
	}
	switch {
	case active && lastCP.Reason != "close" && lastCP.Reason != "rotate":
		res.Tail = extra
		rep.Tail = append(rep.Tail, fmt.Sprintf("%s: lines %d to %d come after the last checkpoint (%s:%d); the running service seals them with its next one", path, n+1, len(hs), lastCP.source, lastCP.line))
	case lastCP.Reason == "close" || lastCP.Reason == "rotate":
		bad(n+1, fmt.Sprintf("lines %d to %d come after the checkpoint that closed this file (%s:%d, reason %s): added after it was closed", n+1, len(hs), lastCP.source, lastCP.line, lastCP.Reason))
	default:
		bad(n+1, fmt.Sprintf("lines %d to %d come after the last checkpoint of a file the service no longer writes (%s:%d): never sealed (written before a crash, or added later)", n+1, len(hs), lastCP.source, lastCP.line))
	}
}

func firstDiff(hs, sealed []tlog.Hash) int {
	i := 0
	for i < len(hs) && i < len(sealed) && hs[i] == sealed[i] {
		i++
	}
	return i
}

// describeDiff says what happened at line i+1, the first whose hash differs
// from the sealed one.
func describeDiff(hs, sealed []tlog.Hash, i int, where string) string {
	at := func(s []tlog.Hash, j int) (tlog.Hash, bool) {
		if j < len(s) {
			return s[j], true
		}
		return tlog.Hash{}, false
	}
	if i >= len(hs) {
		return fmt.Sprintf("the file ends here, but %s sealed %d lines: lines were removed or the file was cut off after the checkpoint", where, len(sealed))
	}
	f0, _ := at(hs, i)
	f1, ok1 := at(hs, i+1)
	s0, _ := at(sealed, i)
	s1, okS1 := at(sealed, i+1)
	if ok1 && okS1 && f0 == s1 && f1 == s0 {
		return fmt.Sprintf("lines %d and %d are swapped: reordered after sealing", i+1, i+2)
	}
	for k := 1; k <= 16 && i+k < len(sealed); k++ {
		if sealed[i+k] == f0 {
			if s, ok := at(sealed, i+k+1); !ok || !ok1 || s == f1 {
				if k == 1 {
					return fmt.Sprintf("a sealed line is missing before this line (sealed as line %d): a line was removed", i+2)
				}
				return fmt.Sprintf("%d sealed lines are missing before this line (sealed as line %d): lines were removed", k, i+k+1)
			}
		}
	}
	for k := 1; k <= 16 && i+k < len(hs); k++ {
		if hs[i+k] == s0 {
			if k == 1 {
				return "this line was never sealed: a line was inserted"
			}
			return fmt.Sprintf("this line and the %d after it were never sealed: lines were inserted", k-1)
		}
	}
	for j, h := range sealed {
		if h == f0 {
			return fmt.Sprintf("this line was sealed as line %d: lines were reordered", j+1)
		}
	}
	return "this line differs from the sealed one: the line was altered"
}
