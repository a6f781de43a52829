package appsettings

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// decodeFile lays one settings file over s: the keys the file names replace
// what earlier layers set, everything else stays. It returns every problem it
// finds, not just the first.
//
// Decoding each layer onto the struct, instead of first merging the layers'
// trees, gives the same result as ASP.NET Core's merge (objects merge key by
// key, lists per index, scalars replace) and lets every error name the file
// the bad value is in.
func decodeFile(source string, data []byte, s *Settings) []error {
	root, err := parseJSON(source, data)
	if err != nil {
		return []error{err}
	}
	d := decoder{source: source}
	d.value(root, reflect.ValueOf(s).Elem(), "")
	return d.errs
}

// decoder copies a parsed JSON tree onto a settings value by reflection.
// Keys match field names case-insensitively; anything the struct does not
// have is an error naming its full path.
type decoder struct {
	source string
	errs   []error
}

func (d *decoder) fail(path, msg string) {
	d.errs = append(d.errs, &Error{Source: d.source, Path: path, Msg: msg})
}

func (d *decoder) value(node any, v reflect.Value, path string) {
	switch v.Type() {
	case reflect.TypeFor[Duration]():
		s, ok := node.(string)
		if !ok {
			d.fail(path, `want a duration such as "30s", got `+kindOf(node))
			return
		}
		dur, err := parseDuration(s)
		if err != nil {
			d.fail(path, err.Error())
			return
		}
		v.SetInt(int64(dur))
		return
	case reflect.TypeFor[IceServer]():
		d.iceServer(node, v, path)
		return
	}
	if u, ok := textUnmarshaler(v); ok {
		s, ok := node.(string)
		if !ok {
			d.fail(path, "want a string, got "+kindOf(node))
			return
		}
		if err := u.UnmarshalText([]byte(s)); err != nil {
			d.fail(path, err.Error())
		}
		return
	}

	switch v.Kind() {
	case reflect.Struct:
		obj, ok := node.(*object)
		if !ok {
			d.fail(path, "want an object, got "+kindOf(node))
			return
		}
		d.fields(obj, v, path)
	case reflect.Slice:
		list, ok := node.([]any)
		if !ok {
			d.fail(path, "want a list, got "+kindOf(node))
			return
		}
		// Per index, as ASP.NET Core does: item i of this layer merges
		// onto item i of the earlier layers, and a longer list adds items.
		for i, item := range list {
			if i >= v.Len() {
				v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			}
			d.value(item, v.Index(i), indexPath(path, i))
		}
	case reflect.String:
		s, ok := node.(string)
		if !ok {
			d.fail(path, "want a string, got "+kindOf(node))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := node.(bool)
		if !ok {
			d.fail(path, "want true or false, got "+kindOf(node))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := node.(json.Number)
		if !ok {
			d.fail(path, "want an integer, got "+kindOf(node))
			return
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(path, "want an integer, got "+quote(string(n)))
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		n, ok := node.(json.Number)
		if !ok {
			d.fail(path, "want a number, got "+kindOf(node))
			return
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || v.OverflowFloat(f) {
			d.fail(path, "want a number, got "+quote(string(n)))
			return
		}
		v.SetFloat(f)
	default:
		// A field type this decoder does not know: a bug in camgate, not
		// in the file, but still an error rather than a panic.
		d.fail(path, "cannot be set from a settings file (type "+v.Type().String()+")")
	}
}

// fields decodes an object onto a struct, key by key.
func (d *decoder) fields(obj *object, v reflect.Value, path string) {
	seen := make(map[int]string, len(obj.keys)) // field index -> key as written
	for i, key := range obj.keys {
		f, ok := fieldIndex(v.Type(), key)
		if !ok {
			d.fail(joinPath(path, key), "unknown setting")
			continue
		}
		fpath := joinPath(path, KeyName(v.Type().Field(f)))
		if prev, dup := seen[f]; dup {
			d.fail(fpath, "set twice in one object (as "+strconv.Quote(prev)+" and "+strconv.Quote(key)+")")
			continue
		}
		seen[f] = key
		if v.Type().Field(f).Tag.Get("merge") == "replace" && v.Field(f).Kind() == reflect.Slice {
			// This list is replaced as a whole, not merged by index.
			v.Field(f).Set(reflect.MakeSlice(v.Field(f).Type(), 0, 0))
		}
		d.value(obj.vals[i], v.Field(f), fpath)
	}
}

// iceServer decodes an ICE server, which takes its URLs as "urls" (the
// WebRTC spelling) or "url" (the older one), each a string or a list of
// strings. When both are given, "urls" wins. The URLs replace the earlier
// layers' URLs of this server as a whole.
func (d *decoder) iceServer(node any, v reflect.Value, path string) {
	obj, ok := node.(*object)
	if !ok {
		d.fail(path, "want an object, got "+kindOf(node))
		return
	}
	var urls, url any
	var haveUrls, haveURL bool
	seen := make(map[string]string, len(obj.keys)) // canonical name -> key as written
	for i, key := range obj.keys {
		var name string
		switch {
		case strings.EqualFold(key, "urls"):
			name = "Urls"
		case strings.EqualFold(key, "url"):
			name = "Url"
		case strings.EqualFold(key, "username"):
			name = "Username"
		case strings.EqualFold(key, "credential"):
			name = "Credential"
		default:
			d.fail(joinPath(path, key), "unknown setting")
			continue
		}
		fpath := joinPath(path, name)
		if prev, dup := seen[name]; dup {
			d.fail(fpath, "set twice in one object (as "+strconv.Quote(prev)+" and "+strconv.Quote(key)+")")
			continue
		}
		seen[name] = key
		switch name {
		case "Urls":
			urls, haveUrls = obj.vals[i], true
		case "Url":
			url, haveURL = obj.vals[i], true
		default:
			d.value(obj.vals[i], v.FieldByName(name), fpath)
		}
	}
	switch {
	case haveUrls:
		d.urlList(urls, v.FieldByName("Urls"), joinPath(path, "Urls"))
	case haveURL:
		d.urlList(url, v.FieldByName("Urls"), joinPath(path, "Url"))
	}
}

// urlList accepts a string or a list of strings.
func (d *decoder) urlList(node any, v reflect.Value, path string) {
	var out []string
	switch n := node.(type) {
	case string:
		out = []string{n}
	case []any:
		out = make([]string, 0, len(n))
		for i, item := range n {
			s, ok := item.(string)
			if !ok {
				d.fail(indexPath(path, i), "want a string, got "+kindOf(item))
				return
			}
			out = append(out, s)
		}
	default:
		d.fail(path, "want a string or a list of strings, got "+kindOf(node))
		return
	}
	v.Set(reflect.ValueOf(out))
}

// fieldIndex finds the exported field of t whose key matches key
// case-insensitively.
func fieldIndex(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && strings.EqualFold(KeyName(f), key) {
			return i, true
		}
	}
	return 0, false
}

// KeyName is the settings key of a field: its name, or the `setting` tag for
// keys that are not Go identifiers (XProtect's CORS keys have dashes).
func KeyName(f reflect.StructField) string {
	if k := f.Tag.Get("setting"); k != "" {
		return k
	}
	return f.Name
}

// textUnmarshaler returns the UnmarshalText of a string setting whose type
// has one (the enums), which files and environment variables then go
// through.
func textUnmarshaler(v reflect.Value) (encoding.TextUnmarshaler, bool) {
	if v.Kind() != reflect.String || !v.CanAddr() {
		return nil, false
	}
	u, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return u, ok
}
