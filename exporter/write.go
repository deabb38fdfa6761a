package exporter

import (
	"bytes"
	"errors"
	"os"
	"syscall"
)

// write writes b whole at the end of the file, and syncs it when sync is
// set. After a failure it reopens the file and tries once more. It returns
// how much of b is in the file: whole lines, all of b unless err is set. f.mu
// is held, or the caller is the writer.
//
// b holds whole lines. A write that fails part way through a line (a disk
// that fills up, a file size limit) would leave the start of that line at
// the end of the file, and the next write would run into it; so the part is
// cut off again (ftruncate), and the retry starts with that line. When the
// cut fails too, the file is marked torn and its next write begins with a
// newline.
//
// The lines written are placed after each attempt (see place), before a
// retry may open another file: with a sealer they are appended to it; a part
// of a line that could not be cut off counts as a line of its own.
func (f *File) write(b []byte, sync bool) (int, error) {
	var err error
	off := 0   // b[:off] is written
	lines := 0 // lines of b[:off]
	for attempt := 0; attempt < 2 && off < len(b); attempt++ {
		if attempt > 0 {
			err = f.open() // in place of the file open now
		} else {
			err = f.current()
		}
		if err != nil {
			continue
		}
		if f.torn && f.tornID.same(f.id) {
			if _, err = f.f.Write([]byte{'\n'}); err != nil {
				continue
			}
			f.torn = false
		}
		from := off
		for off < len(b) {
			var n int
			n, err = f.f.Write(b[off:])
			off += n
			if err != nil {
				break
			}
		}
		if err != nil {
			start := bytes.LastIndexByte(b[:off], '\n') + 1
			torn := f.cutPartial(int64(off - start))
			lines = f.place(b[from:start], lines)
			if torn {
				f.placeFragment(b[start:off])
			}
			off = start
		} else {
			lines = f.place(b[from:off], lines)
		}
	}
	if err == nil && sync {
		err = syncFile(f.f)
	}
	return off, err
}

// syncFile commits file's contents to stable storage. A device such as
// /dev/full cannot be synced, which is not an error here.
func syncFile(file *os.File) error {
	if err := file.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// endsInsideLine reports whether the file at path, with identity id, ends
// inside a line: it is not empty and its last byte is not a newline. That is
// what a write cut short leaves (kill -9 or a crash while the kernel had
// written part of it, a cut at a page boundary): the next line written must
// begin with a newline or it would be glued onto the fragment. Only the last
// byte is read (a pread), through a descriptor of its own, since the file is
// opened for writing only; known is false when it cannot be read, or the path
// names another file by then.
func endsInsideLine(path string, id fileID) (torn, known bool) {
	file, err := openRead(path)
	if err != nil {
		return false, false
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() || !idOf(fi).same(id) {
		return false, false
	}
	if fi.Size() == 0 {
		return false, true
	}
	var last [1]byte
	if _, err := file.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, false
	}
	return last[0] != '\n', true
}

// cutPartial removes the last n bytes of the open file, the start of a line
// whose write failed, or marks the file torn when it cannot, and then
// reports true.
func (f *File) cutPartial(n int64) (torn bool) {
	if n <= 0 {
		return false
	}
	if fi, err := f.f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() >= n {
		if f.f.Truncate(fi.Size()-n) == nil {
			return false
		}
	}
	f.torn, f.tornID = true, f.id
	return true
}
