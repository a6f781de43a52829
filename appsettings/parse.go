package appsettings

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// object is a JSON object with its keys in file order. A map would lose the
// order and silently keep one of two keys that differ only in case; keeping
// every key lets the decoder report such duplicates.
type object struct {
	keys []string
	vals []any
}

// parseJSON turns a settings file into a tree of *object, []any, string,
// json.Number, bool and nil. The file must be one JSON object: plain JSON,
// without comments or trailing commas. A UTF-8 byte order mark is skipped
// because Windows editors like to write one.
func parseJSON(source string, data []byte) (*object, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))

	// json.Unmarshal checks the whole document first and reports the byte
	// offset of a syntax error, which becomes line:column. The Token API
	// used below is not as exact about offsets.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(data, syn.Offset)
			return nil, &Error{Source: source, Line: line, Column: col, Msg: syn.Error()}
		}
		return nil, &Error{Source: source, Msg: err.Error(), Err: err}
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := parseValue(dec)
	if err != nil {
		return nil, &Error{Source: source, Msg: err.Error(), Err: err}
	}
	obj, ok := root.(*object)
	if !ok {
		return nil, &Error{Source: source, Msg: "must hold one JSON object, got " + kindOf(root)}
	}
	return obj, nil
}

// parseValue reads one JSON value. The document is already known to be
// valid, so the errors here are only a safety net.
func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := &object{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			val, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, key)
			obj.vals = append(obj.vals, val)
		}
		if _, err := dec.Token(); err != nil { // the closing '}'
			return nil, err
		}
		return obj, nil
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			val, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, val)
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return nil, err
		}
		return list, nil
	case json.Delim('}'), json.Delim(']'):
		return nil, io.ErrUnexpectedEOF
	}
	return tok, nil
}

// position converts a byte offset into a 1-based line and column; the column
// counts characters, as editors do. The offset json reports is just past the
// offending byte, so the column points at that byte.
func position(data []byte, offset int64) (line, col int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[start:])
	if col == 0 {
		col = 1
	}
	return line, col
}

// kindOf names the JSON type of a tree node for error messages. It never
// returns the value itself, which might be a secret.
func kindOf(v any) string {
	switch v.(type) {
	case *object:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an unknown value"
}
