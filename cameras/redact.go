package cameras

import (
	"errors"
	"net/url"
	"strings"
)

// redactURL returns the URL without its user information, for logs and API
// answers. A URL that does not parse is replaced entirely: it might hold a
// password in a shape we cannot see.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// scrubSecret replaces the password of rawURL inside err's text, both as
// written in the URL (percent-escaped) and decoded.
func scrubSecret(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	msg := err.Error()
	clean := msg
	// The password as written in the URL (escaped, as a library quoting the
	// URL shows it), then as decoded (as sent to the camera).
	if raw := rawPassword(rawURL); raw != "" {
		clean = strings.ReplaceAll(clean, raw, "***")
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		clean = strings.ReplaceAll(clean, pw, "***")
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// rawPassword returns the password of a URL that url.Parse accepted, as
// written (percent-escapes kept), or "".
func rawPassword(rawURL string) string {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i] // the authority
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubText is scrubSecret for a plain message.
func scrubText(msg, rawURL string) string {
	if msg == "" {
		return ""
	}
	return scrubSecret(errors.New(msg), rawURL).Error()
}
