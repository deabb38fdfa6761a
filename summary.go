package otelaudit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/seal"
)

// modulePath is the path of this module, looked up in the build information.
const modulePath = "github.com/otelaudit/otelaudit"

// Summary returns one line that says what New(s) turns on, for a service to
// print at startup; "otelaudit config check" prints it too. It is a list of
// KEY=VALUE fields, always in this order:
//
//	audit=on settings=/etc/psono/settings.yaml folder=/var/log/psono durability=write strict=off sealing=psono-audit-prod+1a2b3c4d log_name=web-1/var/log/psono/audit.log forwarding=http://collector:4318 protocol=http/protobuf whitelist=0 blacklist=2 version=v1.4.0
//
// The fields:
//
//   - audit: on or off (LOGGING_AUDIT). Off, nothing is written, sealed or
//     forwarded: sealing and forwarding are off whatever else is set, and
//     the key file is not read.
//   - settings: where the settings came from (Settings.Source); left out
//     for settings made in code.
//   - folder, durability: LOGGING_AUDIT_FOLDER as written (a relative folder
//     is relative to the service's working directory) and
//     LOGGING_AUDIT_DURABILITY.
//   - strict: on or off (LOGGING_AUDIT_STRICT).
//   - sealing: off, or the fingerprint of the key that seals audit.log
//     (LOGGING_AUDIT_SEAL_KEY): its name and key hash, "NAME+HASH", the
//     start of the public key file (NAME.pub). Never the key itself. With
//     sealing on, log_name follows: the log name the checkpoints carry
//     (LOGGING_AUDIT_SEAL_LOG_NAME, or seal.DefaultLogName of audit.log on
//     this host), the one "otelaudit verify -log" expects. Without strict
//     mode a key file others may read or replace is used, as New does, and
//     key_warning says what is wrong with it.
//   - forwarding: off, or the OTLP endpoint the environment gives
//     (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT;
//     see forward.Configured) without its user information, query and
//     fragment, which may hold credentials; with forwarding on, protocol
//     follows (OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL, http/protobuf by default).
//     An exporter given with WithForwardExporter is not seen here.
//   - whitelist, blacklist: how many entries LOGGING_AUDIT_WHITELIST and
//     LOGGING_AUDIT_BLACKLIST hold.
//   - version: Version.
//
// A value that is empty or holds a space, '"', '=' or a character that is
// not printable is written as a Go string literal (strconv.Quote), so the
// summary is always one line.
//
// Summary makes the checks of New that touch no file of the audit folder,
// and returns New's error where New would fail: s must be valid
// (Settings.Validate); the key file of LOGGING_AUDIT_SEAL_KEY must hold a
// private key (seal.LoadSigner) and, in strict mode, be kept private
// (seal.CheckKeyFile), each problem an error naming the setting and where
// it was set (Settings.SealKeyError); and the OTLP protocol the environment
// names must be one forward.NewExporter supports (the exporter is made and
// closed again, without connecting). Summary reads the key file but never
// opens or creates audit.log, its folder or its checkpoints, so it cannot
// tell a folder New cannot create or a file New cannot open.
func Summary(s config.Settings) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b summaryLine
	b.add("audit", onOff(s.Enabled))
	if s.Source != "" {
		b.add("settings", s.Source)
	}
	b.add("folder", s.Folder)
	b.add("durability", s.Durability.String())
	b.add("strict", onOff(s.Strict))

	if s.Enabled && s.SealKey != "" {
		// What seal.New checks, in its order, before it touches a file.
		signer, _, err := seal.LoadSigner(s.SealKey)
		if err != nil {
			return "", s.SealKeyError(err)
		}
		keyWarning := ""
		if err := seal.CheckKeyFile(s.SealKey); err != nil {
			if s.Strict {
				return "", s.SealKeyError(err)
			}
			keyWarning = err.Error()
		}
		logName := s.SealLogName
		if logName == "" {
			logName = seal.DefaultLogName(s.LogPath())
		}
		if strings.ContainsAny(logName, "\n\r") || strings.ContainsAny(s.LogPath(), "\n\r") {
			return "", s.SealKeyError(errors.New("seal: the log name and the audit log path must not contain line breaks"))
		}
		b.add("sealing", fmt.Sprintf("%s+%08x", signer.Name(), signer.KeyHash()))
		b.add("log_name", logName)
		if keyWarning != "" {
			b.add("key_warning", keyWarning)
		}
	} else {
		b.add("sealing", "off")
	}

	if s.Enabled && forward.Configured() {
		if err := checkForwardEnv(); err != nil {
			return "", err
		}
		endpoint := os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
		if endpoint == "" {
			endpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		}
		protocol := os.Getenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
		if protocol == "" {
			protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		if protocol == "" {
			protocol = "http/protobuf"
		}
		b.add("forwarding", redactEndpoint(endpoint))
		b.add("protocol", protocol)
	} else {
		b.add("forwarding", "off")
	}

	b.add("whitelist", strconv.Itoa(len(s.Whitelist)))
	b.add("blacklist", strconv.Itoa(len(s.Blacklist)))
	b.add("version", Version())
	return b.String(), nil
}

// checkForwardEnv makes the OTLP exporter the environment describes, as
// New does, and closes it again: a protocol it does not support is the
// error New would return. Making it does not connect.
func checkForwardEnv() error {
	exp, err := forward.NewExporter(context.Background())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = exp.Shutdown(ctx)
	return nil
}

// redactEndpoint returns the endpoint e without what may hold a
// credential: the user information of its authority (replaced by "xxxxx",
// as url.URL.Redacted writes a password), its query and its fragment. It
// works on the text, so that it also takes them out of an endpoint that is
// not a well-formed URL ("user:token@collector:4317").
func redactEndpoint(e string) string {
	if i := strings.IndexAny(e, "?#"); i >= 0 {
		e = e[:i]
	}
	scheme, rest := "", e
	if i := strings.Index(e, "://"); i >= 0 {
		scheme, rest = e[:i+3], e[i+3:]
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = "xxxxx@" + authority[i+1:]
	}
	return scheme + authority + path
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// summaryLine builds the KEY=VALUE fields of Summary.
type summaryLine struct{ strings.Builder }

func (b *summaryLine) add(key, value string) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(key)
	b.WriteByte('=')
	if needsQuote(value) {
		value = strconv.Quote(value)
	}
	b.WriteString(value)
}

// needsQuote reports whether a summary value must be quoted to stay one
// field of one line.
func needsQuote(v string) bool {
	if v == "" || !utf8.ValidString(v) {
		return true
	}
	for _, r := range v {
		if r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// Version returns the version of otelaudit built into the running program,
// from runtime/debug.ReadBuildInfo. In a program of this module (the demo,
// the otelaudit command) it is the main module's version: "(devel)" when
// built from a checkout without version control stamping
// (-buildvcs=false), the version go build derives from the checkout's tag
// or commit otherwise (such as v0.0.0-20261204215103-d35d4e97da5e+dirty),
// followed by the vcs.revision and vcs.modified go build stamped, when it
// did:
//
//	v0.0.0-20261204215103-d35d4e97da5e+dirty vcs.revision=d35d4e97da5e2725eef0f6c9785fa4459de8589b vcs.modified=true
//
// In a service that uses otelaudit as a library it is the version of the
// otelaudit module the service requires (that of its replacement when
// go.mod replaces it; "(devel)" for a replacement by a folder). Without
// build information it is "unknown".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if bi.Main.Path == modulePath {
		v := bi.Main.Version
		if v == "" {
			v = "(devel)"
		}
		for _, key := range []string{"vcs.revision", "vcs.modified"} {
			for _, st := range bi.Settings {
				if st.Key == key {
					v += " " + key + "=" + st.Value
				}
			}
		}
		return v
	}
	for _, d := range bi.Deps {
		if d.Path != modulePath {
			continue
		}
		if d.Replace != nil {
			d = d.Replace
		}
		if d.Version == "" {
			return "(devel)"
		}
		return d.Version
	}
	return "unknown"
}
