// Package durability names when an audit record counts as written: the
// contract between the settings (LOGGING_AUDIT_DURABILITY, package config)
// and the file that writes audit.log (package exporter, whose Durability is
// this Mode). It depends on nothing, so that reading settings pulls in no
// exporter.
package durability

import "fmt"

// Mode says when a record counts as written.
type Mode int

const (
	// Write hands every record to the operating system (one write call)
	// before the record's emit returns, that is before the request's
	// response is finished. A crash of the service loses nothing; a crash
	// of the machine or a power loss can lose what the kernel had not yet
	// put on disk (typically the last few seconds). This is the default.
	Write Mode = iota
	// Sync also fsyncs before the emit returns. Concurrent records share
	// one fsync (group commit). Nothing acknowledged is lost even on power
	// loss; each request waits for the disk.
	Sync
	// Buffered collects lines in memory and writes them when 64 KiB are
	// pending or every 100ms. It is the fastest; a crash of the service can
	// lose the last 100ms of records, and the emit cannot report a failed
	// write to the request (strict mode cannot be used with it).
	Buffered
)

// Parse returns the Mode named "write", "fsync" or "buffered".
func Parse(s string) (Mode, error) {
	switch s {
	case "write":
		return Write, nil
	case "fsync":
		return Sync, nil
	case "buffered":
		return Buffered, nil
	}
	return 0, fmt.Errorf("unknown durability %q; want write, fsync or buffered", s)
}

// String returns the setting's value for m: "write", "fsync" or "buffered".
func (m Mode) String() string {
	switch m {
	case Write:
		return "write"
	case Sync:
		return "fsync"
	case Buffered:
		return "buffered"
	}
	return fmt.Sprintf("Durability(%d)", int(m))
}
