package appsettings

import "strings"

// Normalize writes the values that have several spellings in the one form
// the rest of camgate compares exactly: references to roles in the role's
// own spelling; Http.AllowedHosts as Host headers are compared (lower
// case, no final dot); Http.TrustedProxies and Metrics.AllowFrom as CIDR
// ranges ("10.0.0.5" becomes "10.0.0.5/32"); the CORS lists trimmed,
// without empty entries and repeats, origins as browsers send them and
// methods in upper case. A value that does not parse is left as it is, for
// Validate to report. Normalizing twice changes nothing.
//
// Load runs it after ApplyDefaults and before Validate, which changes
// nothing.
func (s *Settings) Normalize() {
	normalizeEach(s.Http.AllowedHosts, allowedHost)
	normalizeEach(s.Http.TrustedProxies, proxyRange)
	normalizeEach(s.Metrics.AllowFrom, rangeForm)
	normalizeCORS(&s.CORS.AllowOrigin, origin)
	normalizeCORS(&s.CORS.AllowHeaders, headerName)
	normalizeCORS(&s.CORS.AllowMethods, method)
	roles := roleSpellings(s.Auth.Roles)
	for i := range s.Auth.Users {
		respellRoles(s.Auth.Users[i].Roles, roles)
	}
	for i := range s.Auth.Issuers {
		for j := range s.Auth.Issuers[i].RoleMappings {
			respellRoles(s.Auth.Issuers[i].RoleMappings[j].Roles, roles)
		}
	}
}

// normalizeEach replaces each entry of list that form accepts by its
// normal form. form returns the form, or a problem.
func normalizeEach(list []string, form func(string) (string, string)) {
	for i, raw := range list {
		if norm, problem := form(raw); problem == "" {
			list[i] = norm
		}
	}
}

// rangeForm is an address or CIDR range as a range.
func rangeForm(raw string) (string, string) {
	p, problem := allowPrefix(strings.TrimSpace(raw))
	if problem != "" {
		return "", problem
	}
	return p.String(), ""
}

// normalizeCORS rewrites a CORS list whose every entry parses.
func normalizeCORS(value *string, entry func(string) (string, string)) {
	if out, problems := corsEntries(*value, entry); len(problems) == 0 {
		*value = strings.Join(out, ", ")
	}
}

// roleSpellings maps each role's key to the name as the role defines it
// (the first definition, should a name be defined twice).
func roleSpellings(roles []Role) map[string]string {
	m := map[string]string{}
	for _, r := range roles {
		if key := roleKey(r.Name); key != "" && m[key] == "" {
			m[key] = r.Name
		}
	}
	return m
}

// respellRoles rewrites each reference to a role in the role's spelling.
func respellRoles(refs []string, roles map[string]string) {
	for i, name := range refs {
		if def, ok := roles[roleKey(name)]; ok {
			refs[i] = def
		}
	}
}
