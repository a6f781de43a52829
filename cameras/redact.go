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

// scrubSecret replaces the password of rawURL (and the raw user info) inside
// err's text.
func scrubSecret(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	msg := err.Error()
	clean := msg
	if pw, ok := u.User.Password(); ok && pw != "" {
		clean = strings.ReplaceAll(clean, pw, "***")
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
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
