package exporter

import "fmt"

// Durability says when a record counts as written.
type Durability int

const (
	// Write hands every record to the operating system (one write call)
	// before OnEmit returns, that is before the request's response is
	// finished. A crash of the service loses nothing; a crash of the
	// machine or a power loss can lose what the kernel had not yet put on
	// disk (typically the last few seconds). This is the default.
	Write Durability = iota
	// Sync also fsyncs before OnEmit returns. Concurrent records share one
	// fsync (group commit). Nothing acknowledged is lost even on power loss;
	// each request waits for the disk.
	Sync
	// Buffered collects lines in memory and writes them when 64 KiB are
	// pending or every 100ms. It is the fastest; a crash of the service can
	// lose the last 100ms of records, and OnEmit cannot report a failed
	// write to the request (strict mode cannot be used with it).
	Buffered
)

// ParseDurability returns the Durability named "write", "fsync" or
// "buffered".
func ParseDurability(s string) (Durability, error) {
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

// String returns the setting's value for d: "write", "fsync" or "buffered".
func (d Durability) String() string {
	switch d {
	case Write:
		return "write"
	case Sync:
		return "fsync"
	case Buffered:
		return "buffered"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}
