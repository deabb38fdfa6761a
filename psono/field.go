// Package psono defines the Psono audit line and the OpenTelemetry form of an
// audit record: the fields a line holds, the order they appear in, the
// attribute key each one travels under, and the encoding and decoding of a
// line.
//
// The mapping defined here is the single source of truth shared by the HTTP
// instrumentation (which sets the attributes), the file exporter (which turns
// them back into a line) and the tests.
package psono

import "go.opentelemetry.io/otel/attribute"

// A Field is one key of the Psono audit line together with the OpenTelemetry
// attribute key that carries its value in a log record.
type Field struct {
	// Name is the key as it appears in the line, for example "user_ip".
	Name string
	// Attr is the attribute key of the log record, for example
	// "client.address". It is empty for Event, which travels as the log
	// record's EventName.
	Attr attribute.Key
}

// The fields of an audit line, in the order a line holds them. Attribute keys
// follow the OpenTelemetry semantic conventions where one exists and use the
// audit.* namespace otherwise.
var (
	// Logger names the component that served the request (Psono: the Python
	// logger of the view, e.g. "restapi.views.datastore").
	Logger = Field{"logger", "audit.logger"}
	// UserIP is the client's IP address, as chosen by Psono's client-IP rule.
	UserIP = Field{"user_ip", "client.address"}
	// ReqMethod is the HTTP request method.
	ReqMethod = Field{"req_method", "http.request.method"}
	// ReqURL is the decoded request path, without the query string.
	ReqURL = Field{"req_url", "url.path"}
	// Success is true when the status code is 2xx. Its attribute is a bool;
	// the line shows Python's True or False.
	Success = Field{"success", "audit.success"}
	// Hostname is the server's own host name.
	Hostname = Field{"hostname", "host.name"}
	// Status is the HTTP status code. Its attribute is an int; the line shows
	// the Django REST framework constant name (see StatusName).
	Status = Field{"status", "http.response.status_code"}
	// Event is the upper-case event code. It travels as the log record's
	// EventName, not as an attribute.
	Event = Field{"event", ""}
	// User is the authenticated user's name; present only when a user was
	// identified.
	User = Field{"user", "user.name"}
	// UserID is the authenticated user's id; present only when a user was
	// identified.
	UserID = Field{"user_id", "user.id"}
)

// Fields lists the fixed fields in line order. Kwargs follow them, in the
// order the record holds them.
var Fields = [...]Field{Logger, UserIP, ReqMethod, ReqURL, Success, Hostname, Status, Event, User, UserID}

const (
	// KwargPrefix starts the line key of every kwarg: the path parameter
	// datastore_id is written as kwarg_datastore_id.
	KwargPrefix = "kwarg_"
	// KwargAttrPrefix starts the attribute key of every kwarg: the path
	// parameter datastore_id travels as audit.kwarg.datastore_id.
	KwargAttrPrefix = "audit.kwarg."
)

// Route is an attribute the instrumentation records beside the line's fields:
// the matched ServeMux pattern. It is not part of the Psono line.
const Route attribute.Key = "http.route"

// The attributes of a record's position in audit.log's chain of files: the
// file exporter adds them to each record once its line is written (write and
// fsync durability; numbered by the sealer when sealed, else by the
// exporter's audit.chain, see exporter.ChainPath), so that the copy the
// forwarder sends carries them and a backend can see gaps and duplicates.
// They are not part of the Psono line.
const (
	// LogTree is the number of the file in the chain, from 1: it grows by
	// one at each rotation of audit.log.
	LogTree attribute.Key = "audit.log.tree"
	// LogIndex is the index of the record's line in that file, from 0 (the
	// leaf index in the file's Merkle tree).
	LogIndex attribute.Key = "audit.log.index"
)

// The attributes of an AUDIT_LOG_CHECKPOINT record, the forwarded copy of a
// checkpoint of the sealed audit.log. Such a record also carries LogTree,
// the file the checkpoint covers; it is forwarded, never written to
// audit.log.
const (
	// CheckpointEvent is the event code of a checkpoint record.
	CheckpointEvent = "AUDIT_LOG_CHECKPOINT"
	// CheckpointScope is the instrumentation scope of the checkpoint
	// records: with the event code, it tells them from a request record
	// whose handler chose the same code.
	CheckpointScope = "github.com/otelaudit/otelaudit/seal"
	// LogSize is the number of lines of the file the checkpoint covers.
	LogSize attribute.Key = "audit.log.size"
	// LogFile is the path of audit.log when the checkpoint was signed.
	LogFile attribute.Key = "audit.log.file"
	// LogCheckpoint is the checkpoint as an entry of a checkpoints file (a
	// marker line and the signed note) : concatenated, the entries a
	// backend received make a file "otelaudit verify" reads beside the
	// host's logs.
	LogCheckpoint attribute.Key = "audit.log.checkpoint"
)

// KwargAttr returns the attribute key for the kwarg name.
func KwargAttr(name string) attribute.Key {
	return attribute.Key(KwargAttrPrefix + name)
}

// ValidKwargName reports whether name may be used as a kwarg name: 1 to 64
// characters from [A-Za-z0-9_]. Names outside this alphabet could change how a
// line splits into fields, so the instrumentation never writes them.
func ValidKwargName(name string) bool {
	return len(name) > 0 && len(name) <= maxKwargName && kwargNameOK(name)
}

// KwargName maps name into ValidKwargName's alphabet: it keeps the first 64
// bytes, replaces every other byte by '_', and gives "_" for an empty name.
// A valid name is returned as it is, without allocating.
func KwargName(name string) string {
	if ValidKwargName(name) {
		return name
	}
	if name == "" {
		return "_"
	}
	b := []byte(name[:min(len(name), maxKwargName)])
	for i, c := range b {
		if !kwargByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

const maxKwargName = 64

func kwargNameOK(name string) bool {
	for i := 0; i < len(name); i++ {
		if !kwargByte(name[i]) {
			return false
		}
	}
	return true
}

func kwargByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// String returns the attribute that carries the field's value v.
func (f Field) String(v string) attribute.KeyValue { return f.Attr.String(v) }

// Bool returns the attribute that carries the field's value v (Success).
func (f Field) Bool(v bool) attribute.KeyValue { return f.Attr.Bool(v) }

// Int returns the attribute that carries the field's value v (Status).
func (f Field) Int(v int) attribute.KeyValue { return f.Attr.Int(v) }
