package appsettings

import (
	"net/url"
	"slices"
	"strings"
)

// redactedSecret replaces a secret in Redacted's copy.
const redactedSecret = "***"

// Redacted returns a deep copy of s that is safe to log: stream URLs keep
// their user name but not their password ("rtsp://admin:xxxxx@host/…", and
// "?password=xxxxx" for cameras that take credentials in the query), and
// ICE server credentials and users' password hashes read "***" (an empty
// one stays empty, so the log still shows whether one is set). s itself is
// not changed.
func (s Settings) Redacted() Settings {
	r := s
	r.WebRTC.PublicIPs = slices.Clone(s.WebRTC.PublicIPs)
	r.WebRTC.Interfaces = slices.Clone(s.WebRTC.Interfaces)
	r.WebRTC.IPs = slices.Clone(s.WebRTC.IPs)
	r.WebRTC.IceServers = slices.Clone(s.WebRTC.IceServers)
	for i := range r.WebRTC.IceServers {
		ice := &r.WebRTC.IceServers[i]
		ice.Urls = slices.Clone(ice.Urls)
		if ice.Credential != "" {
			ice.Credential = redactedSecret
		}
	}
	r.Cameras = slices.Clone(s.Cameras)
	for i := range r.Cameras {
		cam := &r.Cameras[i]
		cam.Streams = slices.Clone(cam.Streams)
		for j := range cam.Streams {
			cam.Streams[j].Url = redactPassword(cam.Streams[j].Url)
		}
		cam.Ptz = cam.Ptz.redacted()
	}
	r.Auth = s.Auth.redacted()
	r.Metrics.AllowFrom = slices.Clone(s.Metrics.AllowFrom)
	return r
}

// redacted is a deep copy of a without password hashes. A hash is not a
// password, but it lets anyone who has it guess passwords offline.
func (a Auth) redacted() Auth {
	r := a
	r.Issuers = slices.Clone(a.Issuers)
	for i := range r.Issuers {
		is := &r.Issuers[i]
		is.RoleMappings = slices.Clone(is.RoleMappings)
		for j := range is.RoleMappings {
			is.RoleMappings[j].Roles = slices.Clone(is.RoleMappings[j].Roles)
		}
	}
	r.Users = slices.Clone(a.Users)
	for i := range r.Users {
		u := &r.Users[i]
		u.Roles = slices.Clone(u.Roles)
		if u.PasswordHash != "" {
			u.PasswordHash = redactedSecret
		}
	}
	r.Roles = slices.Clone(a.Roles)
	for i := range r.Roles {
		role := &r.Roles[i]
		role.Live = slices.Clone(role.Live)
		role.Playback = slices.Clone(role.Playback)
		role.Ptz = slices.Clone(role.Ptz)
		role.Export = slices.Clone(role.Export)
		role.Admin = slices.Clone(role.Admin)
	}
	return r
}

// redactPassword hides the password of a URL, and the values of query
// parameters that look like credentials, and keeps the rest, for logs. A URL
// that does not parse loses its whole userinfo and query instead.
func redactPassword(raw string) string {
	if !strings.Contains(raw, "://") {
		return "xxxxx" // not even URL-shaped: could be anything, a password too
	}
	u, err := url.Parse(raw)
	if err != nil {
		s := stripUserinfo(raw)
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		return s
	}
	changed := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for key := range q {
			if secretParam(key) {
				q[key] = []string{"xxxxx"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw // keep the user's spelling when there is nothing to hide
	}
	return u.String()
}

// secretParam tells whether a query parameter looks like it carries a
// credential, as "?user=admin&password=…" does on some cameras.
func secretParam(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"pass", "pwd", "secret", "token", "key", "auth"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// stripUserinfo removes "user:password@" from a URL, for quoting it in an
// error. It works on text, not on a parsed URL, because the URL being
// quoted is often one that does not parse. It errs on the side of cutting
// too much: everything up to the last "@" goes, so a password holding "/"
// or "@" cannot survive.
func stripUserinfo(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	return prefix + rest
}

// quoteURL quotes a URL for an error message with nothing that may be
// secret: no userinfo, no query (some cameras take "?password=" there), no
// fragment. Text without the form scheme://… may be anything, a password
// pasted into the wrong field for one, so it is not quoted at all: the
// result is then "".
func quoteURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return ""
	}
	s := stripUserinfo(raw)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return quote(s)
}

// gotURL is quoteURL as the tail of an error message: ` (got "…")`, or "".
func gotURL(raw string) string {
	if q := quoteURL(raw); q != "" {
		return " (got " + q + ")"
	}
	return ""
}
