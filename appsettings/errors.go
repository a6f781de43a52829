package appsettings

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem with the settings: a file that cannot be read or
// parsed, a key that is unknown, a value of the wrong type, or a value that
// breaks a rule. Load and Validate return *Error values, several of them
// joined with errors.Join, so that the user can fix everything in one go.
//
// Its text is always one line and never contains a password: values are
// quoted only where they cannot be secret, and URLs lose their userinfo.
type Error struct {
	// Source says where the value came from: a file name such as
	// "appsettings.json", or "environment variable CAMGATE__Http__Listen".
	// It is empty for Validate's errors, which concern the merged result.
	Source string
	// Line and Column locate a JSON syntax error in Source (1-based;
	// Column counts characters). Zero otherwise.
	Line, Column int
	// Path is the setting concerned, for example "Cameras[0].Streams[1].Url".
	// Empty when the problem concerns the whole source.
	Path string
	// Msg says what is wrong, for example "unknown setting".
	Msg string
	// Err is the underlying cause, if any (for example fs.ErrNotExist).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause so that errors.Is(err, fs.ErrNotExist)
// works on a missing settings file.
func (e *Error) Unwrap() error { return e.Err }

// joinPath appends a struct key to a path: "Http" + "Listen" = "Http.Listen".
// A key that came from the user and is not a plain word is quoted, so that a
// strange key (one holding a newline, say) cannot break the one-line rule.
func joinPath(path, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a path: "Cameras" + 0 = "Cameras[0]".
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for _, r := range key {
		ok := r == '_' || r == '-' || r == '$' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// quote quotes a value for an error message, shortened so that one bad value
// cannot flood the line. Callers must never pass a secret (see redactURL).
func quote(s string) string {
	const maxLen = 100
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
