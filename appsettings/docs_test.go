package appsettings

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests keep docs/configuration.md and appsettings.example.json in step
// with the code: every key documented and in the example, no key that does
// not exist, and every documented default equal to Defaults().

// settingPaths lists the path of every setting, "[n]" standing for a list
// index: the leaves, and the lists of sections (which have rows of their own).
func settingPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		path := KeyName(f)
		if prefix != "" {
			path = prefix + "." + KeyName(f)
		}
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]():
			out = append(out, settingPaths(f.Type, path)...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			out = append(out, path)
			out = append(out, settingPaths(f.Type.Elem(), path+"[n]")...)
		default:
			out = append(out, path)
		}
	}
	return out
}

// docRows maps the key of every table row in docs/configuration.md whose
// first cell is a `key` to the row's cells.
func docRows(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	section := ""
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "## ") {
			section = line
		}
		if !strings.HasPrefix(section, "## Settings") || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), " | ")
		key := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := rows[key]; dup {
			t.Errorf("docs: %s documented twice", key)
		}
		rows[key] = cells
	}
	return rows
}

func TestDocsListEveryKey(t *testing.T) {
	rows := docRows(t)
	want := settingPaths(reflect.TypeFor[Settings](), "")
	for _, p := range want {
		if _, ok := rows[p]; !ok {
			t.Errorf("docs: no row for %s", p)
		}
	}
	for key, cells := range rows {
		if !slices.Contains(want, key) {
			t.Errorf("docs: row for %s, which is not a setting", key)
		}
		if len(cells) != 5 {
			t.Errorf("docs: row %s has %d cells, want 5 (key, meaning, unit, default, rule)", key, len(cells))
		}
	}
}

func TestDocsDefaults(t *testing.T) {
	rows := docRows(t)
	d := reflect.ValueOf(Defaults())
	for _, p := range settingPaths(reflect.TypeFor[Settings](), "") {
		if strings.Contains(p, "[n]") || rows[p] == nil || len(rows[p]) < 4 {
			continue // list items have no built-in value; missing rows fail elsewhere
		}
		v := d
		for name := range strings.SplitSeq(p, ".") {
			i, _ := fieldIndex(v.Type(), name)
			v = v.Field(i)
		}
		want := "`" + docValue(v) + "`"
		if got := strings.TrimSpace(rows[p][3]); !strings.HasPrefix(got, want) {
			t.Errorf("docs: default of %s is %s, code says %s", p, got, want)
		}
	}
}

// docValue writes a default the way the docs (and the JSON files) do.
func docValue(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeFor[Duration]():
		return `"` + shortDuration(Duration(v.Int())) + `"`
	case v.Kind() == reflect.String:
		return `"` + v.String() + `"`
	case v.Kind() == reflect.Slice && v.Len() == 0:
		return "[]"
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = `"` + v.Index(i).String() + `"`
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration writes a duration the way people do: "1h", not "1h0m0s".
func shortDuration(d Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func TestExampleHasEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "appsettings.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseJSON("appsettings.example.json", b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var walk func(node any, path string)
	walk = func(node any, path string) {
		switch n := node.(type) {
		case *object:
			for i, k := range n.keys {
				walk(n.vals[i], strings.TrimPrefix(path+"."+k, "."))
			}
		case []any:
			got = append(got, path)
			if len(n) > 0 {
				if _, isObj := n[0].(*object); isObj {
					walk(n[0], path+"[n]")
				}
			}
		default:
			got = append(got, path)
		}
	}
	walk(root, "")
	want := settingPaths(reflect.TypeFor[Settings](), "")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("example keys (in the code's spelling):\n  got  %q\n  want %q", got, want)
	}
}

func TestExampleLoads(t *testing.T) {
	got, err := Load(LoadOptions{ConfigDir: exampleDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	// Everything but the examples of list items and the (disabled) CORS
	// origin is the default.
	want := Defaults()
	want.Cameras = got.Cameras
	want.WebRTC.IceServers = got.WebRTC.IceServers
	want.Auth.Issuers = got.Auth.Issuers
	want.Auth.Users = got.Auth.Users
	want.Auth.Roles = got.Auth.Roles
	want.CORS.AllowOrigin = "https://portal.example.com"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the example's values differ from Defaults():\n  got  %+v\n  want %+v", got, want)
	}
	if len(got.Cameras) != 1 || got.Cameras[0].Streams[0].Url != "rtsp://user:password@192.0.2.10:554/stream1" {
		t.Errorf("example camera: %+v", got.Cameras)
	}
	wantAuth := Auth{
		Issuers: []Issuer{{
			Url: "https://keycloak.example.com/realms/video", Audience: "camgate", RolesClaim: "realm_access.roles",
			RoleMappings: []RoleMapping{{Value: "video-operator", Roles: []string{"operator"}}},
			Leeway:       Duration(30 * time.Second),
		}},
		Users: []User{{Username: "operator", PasswordHash: got.Auth.Users[0].PasswordHash, Roles: []string{"operator"}}},
		Roles: []Role{{Name: "operator", Live: []string{"*"}, Playback: []string{"*"}, Ptz: []string{"*"}}},
	}
	if !reflect.DeepEqual(got.Auth.Issuers, wantAuth.Issuers) || !reflect.DeepEqual(got.Auth.Users, wantAuth.Users) ||
		!reflect.DeepEqual(got.Auth.Roles, wantAuth.Roles) {
		t.Errorf("example Auth lists:\n  got  %+v\n  want %+v", got.Auth, wantAuth)
	}
	if h := got.Auth.Users[0].PasswordHash; !strings.HasPrefix(h, "$2b$10$") || passwordHashProblem(h) != "" {
		t.Errorf("example password hash %q is not a bcrypt hash", h)
	}
}

// exampleDir copies appsettings.example.json into a config folder as
// appsettings.json.
func exampleDir(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "appsettings.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, "appsettings.json", string(b))
	return dir
}
