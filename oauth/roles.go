package oauth

import (
	"strings"

	"github.com/camgate/camgate/appsettings"
)

// roleTable is Auth.Roles by lower-cased name (role names compare
// case-insensitively, like user names). Built once in New, never changed.
type roleTable map[string]appsettings.Role

// newRoleTable reads Auth.Roles.
func newRoleTable(roles []appsettings.Role) roleTable {
	t := roleTable{}
	for _, r := range roles {
		key := strings.ToLower(strings.TrimSpace(r.Name))
		if prev, ok := t[key]; ok {
			// Validate reports duplicates; here two definitions simply add up.
			r = mergeRoles(prev, r)
		}
		t[key] = r
	}
	return t
}

func mergeRoles(a, b appsettings.Role) appsettings.Role {
	a.Live = append(append([]string(nil), a.Live...), b.Live...)
	a.Playback = append(append([]string(nil), a.Playback...), b.Playback...)
	a.Ptz = append(append([]string(nil), a.Ptz...), b.Ptz...)
	a.Export = append(append([]string(nil), a.Export...), b.Export...)
	a.Admin = append(append([]string(nil), a.Admin...), b.Admin...)
	return a
}

// has reports whether a role of that name is defined.
func (t roleTable) has(name string) bool {
	_, ok := t[strings.ToLower(strings.TrimSpace(name))]
	return ok
}

// grant gives p the union of the rights of the named roles. Unknown names
// grant nothing (New warns about them for built-in users).
func (t roleTable) grant(p *Principal, names []string) {
	for _, name := range names {
		r, ok := t[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			continue
		}
		grantAll(p, RightLive, r.Live)
		grantAll(p, RightPlayback, r.Playback)
		grantAll(p, RightPTZ, r.Ptz)
		grantAll(p, RightExport, r.Export)
		grantAll(p, RightAdmin, r.Admin)
	}
}

func grantAll(p *Principal, r Right, cameras []string) {
	if len(cameras) > 0 {
		p.Grant(r, cameras...)
	}
}
