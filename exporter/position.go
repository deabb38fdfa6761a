package exporter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Positions without a sealer.
//
// Every record File writes with Write or Sync durability carries the
// position of its line: psono.LogTree, the number of the file in the chain
// of audit.log's files (from 1, one more at each rotation), and
// psono.LogIndex, the index of the line in that file (from 0). With a
// sealer the sealer's numbering is used (its tree and leaf index). Without
// one, File numbers the files itself:
//
//   - the lines of the file are counted once, when File opens it (one read
//     of the file), and then counted as they are written; the write path
//     never reads the file. A fragment the file ends in (a write cut short)
//     counts as a line, as for the sealer;
//   - the file number is kept in the chain file beside audit.log
//     (ChainPath: audit.chain for audit.log), one entry per file of the
//     chain: its number, its identity (device and inode) and the number of
//     lines it held when it was opened, and again when Shutdown closes it.
//     At the first open, the file at the path goes on with the last entry's
//     number when it is that entry's file and holds at least as many lines;
//     otherwise (another file, or one cut shorter) it is the next file of
//     the chain. While the service runs, each file opened that is not the
//     one written before (a rotation) takes the next number.
//
// Limits: where files have no inode numbers (Windows), the identity is not
// recorded and a file that holds at least as many lines as recorded is taken
// for the same file; a file truncated in place (logrotate's copytruncate)
// while the service runs keeps its number and its count (positions then name
// lines past the file's end), and one truncated while it was stopped is a new
// file only if it is shorter than the last entry says (after a crash, that
// is the count at open, not at the end); another process appending to the same
// audit.log shifts the lines under the count. When the chain file cannot be
// written, the numbering goes on in memory and the error is reported; a
// restart may then number a file again. Sealing switched on or off starts
// the other numbering (the sealer's chain, or this one) from where it was:
// give the two a different log name (LOGGING_AUDIT_SEAL_LOG_NAME) when the
// off-host copy must tell them apart.
//
// With Buffered durability a record's line is written after OnEmit returned,
// and the record carries no position (sealed or not).

// ChainSuffix replaces audit.log's extension in the name of its chain file:
// audit.log numbers its files in audit.chain. The name does not start with
// audit.log, so nothing that looks for audit.log's rotated files takes it for
// one.
const ChainSuffix = ".chain"

// ChainPath returns the path of the chain file of the audit log at logPath
// (see File): audit.chain beside audit.log.
func ChainPath(logPath string) string {
	base := filepath.Base(logPath)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return filepath.Join(filepath.Dir(logPath), base+ChainSuffix)
}

// A ChainEntry is one file of the chain as the chain file records it.
type ChainEntry struct {
	// File is the number of the file in the chain, from 1 (psono.LogTree).
	File int64
	// Key is the file's identity, "device:inode"; empty where files have
	// no inode numbers.
	Key string
	// Lines is the number of lines the file held when File opened it.
	Lines int64
}

// ReadChain returns the entries of the chain file at path, oldest first; a
// missing file has none. A last entry cut off by a crash is ignored.
func ReadChain(path string) ([]ChainEntry, error) {
	file, err := openRead(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var out []ChainEntry
	sc := bufio.NewScanner(io.LimitReader(file, 64<<20))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue // a torn entry
		}
		n, err1 := strconv.ParseInt(fields[0], 10, 64)
		lines, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err1 != nil || err2 != nil || n < 1 {
			continue
		}
		key := fields[1]
		if key == "-" {
			key = ""
		}
		out = append(out, ChainEntry{File: n, Key: key, Lines: lines})
	}
	return out, sc.Err()
}

// appendChain adds e to the chain file at path and syncs it.
func appendChain(path string, e ChainEntry, mode os.FileMode) error {
	file, err := openAppend(path, mode)
	if err != nil {
		return err
	}
	key := e.Key
	if key == "" {
		key = "-"
	}
	_, err = fmt.Fprintf(file, "%d %s %d\n", e.File, key, e.Lines)
	if serr := syncFile(file); err == nil {
		err = serr
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// countLines counts the lines of the file at path, with identity id, in one
// read: the newlines, and a fragment it ends in (torn) as one more line.
// known is false when it cannot be read or the path names another file by
// then.
func countLines(path string, id fileID) (lines int64, torn, known bool) {
	file, err := openRead(path)
	if err != nil {
		return 0, false, false
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() || !idOf(fi).same(id) {
		return 0, false, false
	}
	buf := make([]byte, 64<<10)
	var last byte = '\n'
	for {
		n, err := file.Read(buf)
		if n > 0 {
			lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			last = buf[n-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, false, false
		}
	}
	if last != '\n' {
		return lines + 1, true, true
	}
	return lines, false, true
}

// number sets the number and line count of the file just opened, with
// identity id, without a sealer: other says it is not the file written
// before, first that no file was opened before in this process (see the
// comment at the top of this file). f.mu is held, or the caller is the
// writer.
func (f *File) number(id fileID, fi os.FileInfo, other, first bool) {
	lines, torn, known := countLines(f.path, id)
	if known {
		f.torn, f.tornID = torn, id
	}
	if !first && !other {
		if known {
			f.lines = lines
		}
		return // the same file opened again
	}
	f.lines = lines
	key := keyOf(fi)
	f.fileKey = key
	if first {
		entries, err := ReadChain(f.chain)
		if err != nil {
			f.errorLog(fmt.Errorf("otelaudit: positions: chain file: %w", err))
		}
		f.fileNo = 1
		if len(entries) > 0 {
			last := entries[len(entries)-1]
			if (key == "" || key == last.Key) && lines >= last.Lines && known {
				f.fileNo = last.File
				return
			}
			f.fileNo = last.File + 1
		}
	} else {
		f.fileNo++
	}
	if err := appendChain(f.chain, ChainEntry{File: f.fileNo, Key: key, Lines: lines}, f.fileMode); err != nil {
		f.errorLog(fmt.Errorf("otelaudit: positions: file %d of the chain is not recorded (a restart may number it again): %w", f.fileNo, err))
	}
}

// recordClose adds the open file's line count to the chain file, so that a
// restart tells a file cut shorter since (copytruncate) from the same file;
// f.mu is held and no write is in progress.
func (f *File) recordClose() {
	if f.sealer != nil || f.f == nil || f.fileNo == 0 {
		return
	}
	if err := appendChain(f.chain, ChainEntry{File: f.fileNo, Key: f.fileKey, Lines: f.lines}, f.fileMode); err != nil {
		f.errorLog(fmt.Errorf("otelaudit: positions: chain file: %w", err))
	}
}

// FileKey returns the identity of the file fi describes as the chain file
// records it ("device:inode"), or "" where files have no inode numbers: a
// reader of audit.chain (otelaudit gaps) finds the number of a file by it.
func FileKey(fi os.FileInfo) string { return keyOf(fi) }
