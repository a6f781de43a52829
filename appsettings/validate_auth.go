package appsettings

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits of the Auth durations and counts, shared by the rules and their
// messages.
const (
	minTokenLifetime        = time.Minute
	maxTokenLifetime        = 24 * time.Hour
	minRefreshTokenLifetime = time.Minute
	maxRefreshTokenLifetime = 90 * 24 * time.Hour
	maxLeeway               = 5 * time.Minute
	maxSessionGrace         = time.Hour
	maxSignInFailures       = 1000
)

// Defaults of Issuer, whose items have no built-in value: ApplyDefaults
// fills them in when they are empty (zero).
const (
	defaultRolesClaim = "roles"
	defaultLeeway     = Duration(30 * time.Second)
)

// auth checks the Auth section. cameraIDs holds the key of every
// camera the rights may name; nil skips that check.
//
// Role names are unique regardless of case and of spaces around them, and
// every reference to a role (from a user or a role mapping) is matched the
// same way and rewritten in the role's own spelling.
func (v *validator) auth(a *Auth, cameraIDs map[CameraKey]string) {
	if !a.BuiltIn.Enabled && len(a.Issuers) == 0 {
		v.fail("Auth", "nobody could sign in: set Auth.BuiltIn.Enabled to true or list an issuer in Auth.Issuers")
	}

	// Role names first, without reporting, so that references can be
	// checked in field order; the names' own rules come with Roles below.
	roles := roleSpellings(a.Roles)

	v.builtIn(&a.BuiltIn)
	issuerURLs := map[string]string{}
	if a.BuiltIn.Enabled && a.BuiltIn.Issuer != "" {
		issuerURLs[issuerKey(a.BuiltIn.Issuer)] = "Auth.BuiltIn.Issuer"
	}
	for i := range a.Issuers {
		v.issuer(indexPath("Auth.Issuers", i), &a.Issuers[i], issuerURLs, roles)
	}
	userNames := map[string]string{}
	for i := range a.Users {
		v.user(indexPath("Auth.Users", i), &a.Users[i], userNames, roles)
	}
	roleNames := map[string]string{}
	for i := range a.Roles {
		v.role(indexPath("Auth.Roles", i), &a.Roles[i], roleNames, cameraIDs)
	}
	if d := time.Duration(a.SessionGrace); d < 0 || d > maxSessionGrace {
		v.fail("Auth.SessionGrace", "must be from 0s to 1h (got "+d.String()+")")
	}
	if n := a.SignInFailuresPerMinute; n < 1 || n > maxSignInFailures {
		v.fail("Auth.SignInFailuresPerMinute", "must be from 1 to "+strconv.Itoa(maxSignInFailures)+" (got "+strconv.Itoa(n)+")")
	}
}

func (v *validator) builtIn(b *BuiltInProvider) {
	if b.Issuer != "" {
		v.issuerURL("Auth.BuiltIn.Issuer", b.Issuer, true)
	}
	if b.Enabled && strings.TrimSpace(b.Audience) == "" {
		v.fail("Auth.BuiltIn.Audience", "must not be empty while Auth.BuiltIn.Enabled is true")
	}
	if d := time.Duration(b.TokenLifetime); d < minTokenLifetime || d > maxTokenLifetime {
		v.fail("Auth.BuiltIn.TokenLifetime", "must be from 1m to 24h (got "+d.String()+")")
	}
	if d := time.Duration(b.RefreshTokenLifetime); d < minRefreshTokenLifetime || d > maxRefreshTokenLifetime {
		v.fail("Auth.BuiltIn.RefreshTokenLifetime", "must be from 1m to 2160h, which is 90 days (got "+d.String()+")")
	}
}

func (v *validator) issuer(path string, is *Issuer, seen map[string]string, roles map[string]string) {
	if is.Url == "" {
		v.fail(path+".Url", "is required")
	} else if v.issuerURL(path+".Url", is.Url, false) {
		key := issuerKey(is.Url)
		if prev, dup := seen[key]; dup {
			v.fail(path+".Url", "duplicates "+prev)
		} else {
			seen[key] = path + ".Url"
		}
	}
	if strings.TrimSpace(is.Audience) == "" {
		v.fail(path+".Audience", "is required")
	}
	if !claimPath(is.RolesClaim) {
		v.fail(path+".RolesClaim", `must be a claim name, or a dotted path of names such as "realm_access.roles" (got `+quote(is.RolesClaim)+")")
	}
	for j := range is.RoleMappings {
		m := &is.RoleMappings[j]
		mpath := indexPath(path+".RoleMappings", j)
		if m.Value == "" {
			v.fail(mpath+".Value", "is required")
		}
		if len(m.Roles) == 0 {
			v.fail(mpath+".Roles", "must list at least one role")
		}
		v.roleRefs(mpath+".Roles", m.Roles, roles)
	}
	if d := time.Duration(is.Leeway); d < 0 || d > maxLeeway {
		v.fail(path+".Leeway", "must be from 0s to 5m (got "+d.String()+")")
	}
}

// issuerURL checks the URL of an issuer and reports whether it passed. The
// built-in provider may use http:// anywhere (it often sits behind a proxy
// that terminates TLS, or on a LAN); an external issuer needs https:// except
// on loopback, where tests and a local Dex or Keycloak run. An issuer URL is
// compared exactly with the "iss" of tokens, so the built-in one may not end
// with "/", which camgate would not put into its tokens.
func (v *validator) issuerURL(path, raw string, builtIn bool) bool {
	n := len(v.errs)
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.fail(path, "is not a valid URL"+gotURL(raw))
	case builtIn && u.Scheme != "http" && u.Scheme != "https":
		v.fail(path, "must be an http:// or https:// URL"+gotURL(raw))
	case !builtIn && u.Scheme == "http" && !loopbackHost(u.Hostname()):
		v.fail(path, "must be an https:// URL; http:// is allowed only for a loopback host "+
			"(127.0.0.1, localhost or [::1]), for tests and a local issuer"+gotURL(raw))
	case !builtIn && u.Scheme != "https" && u.Scheme != "http":
		v.fail(path, "must be an https:// URL"+gotURL(raw))
	case u.User != nil:
		v.fail(path, "must not hold a user name or password"+gotURL(raw))
	case u.Hostname() == "":
		v.fail(path, "must name a host"+gotURL(raw))
	case u.Port() != "" && !validPort(u.Port(), 1):
		v.fail(path, "port must be from 1 to 65535"+gotURL(raw))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		v.fail(path, "must not have a query or fragment"+gotURL(raw))
	case builtIn && strings.HasSuffix(u.Path, "/"):
		v.fail(path, `must not end with "/"`+gotURL(raw))
	}
	return len(v.errs) == n
}

// issuerKey is what makes two issuer URLs the same for the uniqueness rule:
// scheme and host in any case, with or without a final "/".
func issuerKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/")
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// claimPath reports whether s is one or more non-empty names joined by ".".
func claimPath(s string) bool {
	for name := range strings.SplitSeq(s, ".") {
		if strings.TrimSpace(name) == "" {
			return false
		}
	}
	return true
}

// user checks a built-in account. Neither the user name (which may be a
// password pasted as "user:password") nor the hash is ever quoted.
func (v *validator) user(path string, u *User, seen map[string]string, roles map[string]string) {
	switch {
	case u.Username == "":
		v.fail(path+".Username", "is required")
	case strings.ContainsFunc(u.Username, func(r rune) bool { return r == ':' || r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		v.fail(path+".Username", `must not contain ":" or control characters`)
	default:
		key := strings.ToLower(u.Username)
		if prev, dup := seen[key]; dup {
			v.fail(path+".Username", "duplicates "+prev+" (user names are compared regardless of case)")
		} else {
			seen[key] = path + ".Username"
		}
	}
	if msg := passwordHashProblem(u.PasswordHash); msg != "" {
		v.fail(path+".PasswordHash", msg)
	}
	v.roleRefs(path+".Roles", u.Roles, roles)
}

// passwordHashProblem says what is wrong with a password hash, or "". It
// never quotes the value: it may be a password written where the hash
// belongs.
func passwordHashProblem(h string) string {
	const howTo = `; run "camgate hash-password" to make one`
	switch {
	case h == "":
		return "is required" + howTo
	case strings.HasPrefix(h, "$argon2id$"):
		return ""
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if !bcryptShape(h) {
			return `is not a complete bcrypt hash ("$2b$", a cost from 04 to 31, "$" and 53 characters of ` +
				`[./A-Za-z0-9], 60 characters in all)` + howTo
		}
		return ""
	}
	return `must be a bcrypt hash ("$2a$", "$2b$" or "$2y$") or an argon2id hash ("$argon2id$"), not a password` + howTo
}

// bcryptShape reports whether h has the exact form of a bcrypt hash: a
// truncated one would make every sign-in fail without saying why.
func bcryptShape(h string) bool {
	if len(h) != 60 || h[6] != '$' {
		return false
	}
	cost, err := strconv.Atoi(h[4:6])
	if err != nil || cost < 4 || cost > 31 || h[4] < '0' || h[4] > '9' {
		return false
	}
	for i := 7; i < len(h); i++ {
		c := h[i]
		if !(c == '.' || c == '/' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// roleKey is what makes two role names the same.
func roleKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// roleRefs checks that every name in refs is a role.
func (v *validator) roleRefs(path string, refs []string, roles map[string]string) {
	for i, name := range refs {
		if _, ok := roles[roleKey(name)]; !ok {
			v.fail(indexPath(path, i), "no such role in Auth.Roles (got "+quote(name)+")")
		}
	}
}

func (v *validator) role(path string, r *Role, seen map[string]string, cameraIDs map[CameraKey]string) {
	switch key := roleKey(r.Name); {
	case key == "":
		v.fail(path+".Name", "is required")
	case seen[key] != "":
		v.fail(path+".Name", "duplicates "+seen[key]+" (role names are compared regardless of case)")
	default:
		seen[key] = path + ".Name"
	}
	for _, right := range []struct {
		name string
		ids  []string
	}{{"Live", r.Live}, {"Playback", r.Playback}, {"Ptz", r.Ptz}, {"Export", r.Export}, {"Admin", r.Admin}} {
		for i, id := range right.ids {
			ipath := indexPath(path+"."+right.name, i)
			switch {
			case id == "*":
			case !isGUID(id):
				v.fail(ipath, `must be "*" (every camera) or a camera Id (got `+quote(id)+")")
			case cameraIDs != nil && cameraIDs[KeyOf(id)] == "":
				v.fail(ipath, "no such camera in Cameras (got "+quote(id)+")")
			}
		}
	}
}
