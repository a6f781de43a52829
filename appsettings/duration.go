package appsettings

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// String returns the duration in Go syntax ("2s", "1m30s"), the form that
// settings files and environment variables use.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string ("30s"), so that logged
// settings read like the files they came from.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a Go duration string ("30s", "400ms"). A bare number is
// refused: its unit would be a guess. null leaves d alone, as encoding/json
// expects of an Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration such as "30s", got ` + JSONKind(b))
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// parseDuration is time.ParseDuration with an error that quotes the input
// (a duration is never a secret) and names the expected form.
func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New(`want a duration such as "30s", got ` + quote(s))
	}
	return Duration(v), nil
}

// JSONKind names the JSON type of an encoded value by its first byte ("a
// string", "an object", …), for decoding errors, which must not quote the
// value. ptz's command decoder uses it too.
func JSONKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
