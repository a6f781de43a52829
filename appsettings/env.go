package appsettings

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// envPrefix starts every environment variable that holds a setting. The
// double underscore keeps CAMGATE_ENVIRONMENT, which selects the
// environment file, from being read as a setting.
const envPrefix = "CAMGATE__"

// envVar is one CAMGATE__ variable, its name split at "__" into the path of
// the setting it targets.
type envVar struct {
	name  string
	segs  []string
	value string
}

// applyEnv lays the CAMGATE__Section__Key variables of env (in the form of
// os.Environ) over s and returns every problem it finds. Each error names
// the variable, never its value unless the value cannot be a secret.
func applyEnv(env []string, s *Settings) []error {
	root := reflect.ValueOf(s).Elem()
	var errs []error
	for _, ev := range envVars(env) {
		if err := setEnv(ev, root); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// envVars picks the CAMGATE__ variables out of env. The prefix and the keys
// are case-insensitive; when a name occurs twice the later entry wins, as it
// does for os/exec. The result is sorted by path with list indexes compared
// as numbers, so that items 0, 1, 2, … of a list are added in order.
func envVars(env []string) []envVar {
	var vars []envVar
	byKey := make(map[string]int)
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || len(name) < len(envPrefix) || !strings.EqualFold(name[:len(envPrefix)], envPrefix) {
			continue
		}
		ev := envVar{name: name, segs: strings.Split(name[len(envPrefix):], "__"), value: value}
		key := strings.ToLower(name)
		if i, dup := byKey[key]; dup {
			vars[i] = ev
			continue
		}
		byKey[key] = len(vars)
		vars = append(vars, ev)
	}
	slices.SortStableFunc(vars, func(a, b envVar) int { return compareSegs(a.segs, b.segs) })
	return vars
}

func compareSegs(a, b []string) int {
	for i := range min(len(a), len(b)) {
		ai, aok := listIndex(a[i])
		bi, bok := listIndex(b[i])
		var c int
		if aok && bok {
			c = cmp.Compare(ai, bi)
		} else {
			c = cmp.Compare(strings.ToLower(a[i]), strings.ToLower(b[i]))
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// listIndex parses a list index: decimal digits only, small enough that
// nobody means it as anything but a typo.
func listIndex(seg string) (int, bool) {
	if seg == "" || len(seg) > 6 {
		return 0, false
	}
	for _, r := range seg {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(seg)
	return i, err == nil
}

// setEnv walks the path of one variable through the settings and sets the
// value it reaches.
func setEnv(ev envVar, v reflect.Value) error {
	fail := func(path, msg string) error {
		return &Error{Source: "environment variable " + ev.name, Path: path, Msg: msg}
	}
	path := ""
	for _, seg := range ev.segs {
		if seg == "" {
			return fail(path, `empty key: separate keys with exactly one "__"`)
		}
		switch {
		case v.Kind() == reflect.Struct:
			name := seg
			if v.Type() == reflect.TypeFor[IceServer]() && strings.EqualFold(seg, "url") {
				name = "Urls" // the same alias the files accept
			}
			f, ok := fieldIndex(v.Type(), name)
			if !ok {
				return fail(joinPath(path, seg), "unknown setting")
			}
			path = joinPath(path, KeyName(v.Type().Field(f)))
			v = v.Field(f)
		case v.Kind() == reflect.Slice:
			i, ok := listIndex(seg)
			if !ok {
				return fail(path, "want a list index (0, 1, …) after it, got "+quote(seg))
			}
			if i > v.Len() {
				return fail(indexPath(path, i), "no such item: the list has "+strconv.Itoa(v.Len())+
					" items, so a new item must have index "+strconv.Itoa(v.Len()))
			}
			if i == v.Len() {
				v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			}
			path = indexPath(path, i)
			v = v.Index(i)
		default:
			return fail(path, "is a single value, not a section: nothing can follow it")
		}
	}
	if msg := setFromString(v, ev.value, ev.name); msg != "" {
		return fail(path, msg)
	}
	return nil
}

// setFromString converts an environment variable's text to the type of v.
// It returns what is wrong, or "". Only numbers, booleans and durations are
// quoted back: a string setting may hold a password.
func setFromString(v reflect.Value, raw, name string) string {
	if v.Type() == reflect.TypeFor[Duration]() {
		d, err := parseDuration(strings.TrimSpace(raw))
		if err != nil {
			return err.Error()
		}
		v.SetInt(int64(d))
		return ""
	}
	if u, ok := textUnmarshaler(v); ok {
		if err := u.UnmarshalText([]byte(strings.TrimSpace(raw))); err != nil {
			return err.Error()
		}
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		switch t := strings.TrimSpace(raw); {
		case strings.EqualFold(t, "true"):
			v.SetBool(true)
		case strings.EqualFold(t, "false"):
			v.SetBool(false)
		default:
			return "want true or false, got " + quote(raw)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || v.OverflowInt(i) {
			return "want an integer, got " + quote(raw)
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || v.OverflowFloat(f) {
			return "want a number, got " + quote(raw)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if elem := v.Type().Elem(); elem.Kind() != reflect.String {
			return "is a list of sections: set its items by index, for example " + name + "__0" + firstKey(elem)
		}
		// A variable aimed at a list of strings holds the whole list,
		// comma-separated; an empty value empties the list.
		items := make([]string, 0, strings.Count(raw, ",")+1)
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	case reflect.Struct:
		return "is a section: set its keys, for example " + name + firstKey(v.Type())
	default:
		return "cannot be set from an environment variable (type " + v.Type().String() + ")"
	}
	return ""
}

// firstKey returns "__" and the first field name of a struct type, for the
// examples in error messages, or "" when t has none.
func firstKey(t reflect.Type) string {
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return ""
	}
	return "__" + KeyName(t.Field(0))
}
