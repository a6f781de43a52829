package signaling

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/camgate/camgate/gateway/internal/errtext"
)

// XProtect's gateway binds requests the ASP.NET Core way: property names
// case-insensitively (encoding/json already does), numbers and booleans also
// as strings, and a string where a list is expected. Real clients rely on it:
// the official sample sends "speed":"2" and iceServers with "url" or "urls".

// flexFloat accepts a JSON number or a string holding one. Empty means unset.
type flexFloat struct {
	Set   bool
	Value float64
}

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	s, set, err := flexScalar(b)
	if err != nil || !set {
		*f = flexFloat{}
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	// ParseFloat also reads "NaN" and "Inf"; ASP.NET Core's web defaults do
	// not, and no speed or position can be either.
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return flexTypeError[flexFloat](bytes.TrimSpace(b))
	}
	*f = flexFloat{Set: true, Value: v}
	return nil
}

// flexScalar reads a JSON scalar that may come as a string: the text of
// the number or literal, or of the string unquoted, trimmed either way.
// null, "" and a string of spaces are unset (set is false).
func flexScalar(b []byte) (text string, set bool, err error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return "", false, nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		s = strings.TrimSpace(s)
	}
	return s, s != "", nil
}

// flexBool accepts true/false or the strings "true"/"false" (any case).
type flexBool struct {
	Set   bool
	Value bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s, set, err := flexScalar(b)
	if err != nil || !set {
		*f = flexBool{}
		return err
	}
	v, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		return flexTypeError[flexBool](bytes.TrimSpace(b))
	}
	*f = flexBool{Set: true, Value: v}
	return nil
}

// flexStrings accepts a string or a list of strings.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexStrings{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return flexTypeError[flexStrings](b)
	}
	*f = list
	return nil
}

// flexString accepts a string, a number or null as a string (ids and times
// that some clients send unquoted or as null).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*f = flexString(b)
	default:
		return flexTypeError[flexString](b)
	}
	return nil
}

// flexTypeError reports a value a flex type cannot take. It is a
// *json.UnmarshalTypeError because that is the one error encoding/json
// annotates with the field's path: the client is told which field was wrong
// ("playbackTimeNode.speed"), not just what was wrong with it.
func flexTypeError[T any](got []byte) error {
	return &json.UnmarshalTypeError{Value: errtext.Truncate(string(got), 40), Type: reflect.TypeFor[T]()}
}
