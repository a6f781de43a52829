package appsettings

import (
	"testing"
	"time"
)

const howToHash = `; run "camgate hash-password" to make one`

func TestValidateAuthRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		// Somebody must be able to sign in.
		{"no provider at all", func(s *Settings) {
			s.Auth.BuiltIn.Enabled = false
			s.Auth.Issuers = nil
		}, []string{"Auth: nobody could sign in: set Auth.BuiltIn.Enabled to true or list an issuer in Auth.Issuers"}},
		{"issuers only", func(s *Settings) { s.Auth.BuiltIn.Enabled = false }, nil},

		// Auth.BuiltIn
		{"issuer empty means the listen address", func(s *Settings) { s.Auth.BuiltIn.Issuer = "" }, nil},
		{"issuer over http, on a LAN address", func(s *Settings) { s.Auth.BuiltIn.Issuer = "http://192.0.2.5:8080/API/IDP" }, nil},
		{"issuer of another scheme", func(s *Settings) { s.Auth.BuiltIn.Issuer = "ftp://cams.example.com/API/IDP" },
			[]string{`Auth.BuiltIn.Issuer: must be an http:// or https:// URL (got "ftp://cams.example.com/API/IDP")`}},
		{"issuer without scheme", func(s *Settings) { s.Auth.BuiltIn.Issuer = "cams.example.com/API/IDP" },
			[]string{"Auth.BuiltIn.Issuer: must be an http:// or https:// URL"}},
		{"issuer with a final slash", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://cams.example.com/API/IDP/" },
			[]string{`Auth.BuiltIn.Issuer: must not end with "/" (got "https://cams.example.com/API/IDP/")`}},
		{"issuer that is only a host with a slash", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://cams.example.com/" },
			[]string{`Auth.BuiltIn.Issuer: must not end with "/" (got "https://cams.example.com/")`}},
		{"issuer with a query", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://cams.example.com/API/IDP?tenant=1" },
			[]string{`Auth.BuiltIn.Issuer: must not have a query or fragment (got "https://cams.example.com/API/IDP")`}},
		{"issuer with an empty fragment", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://cams.example.com/API/IDP#" },
			[]string{`Auth.BuiltIn.Issuer: must not have a query or fragment (got "https://cams.example.com/API/IDP")`}},
		{"issuer with a password", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://admin:" + secret + "@cams.example.com/API/IDP" },
			[]string{`Auth.BuiltIn.Issuer: must not hold a user name or password (got "https://cams.example.com/API/IDP")`}},
		{"issuer without host", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https:///API/IDP" },
			[]string{`Auth.BuiltIn.Issuer: must name a host (got "https:///API/IDP")`}},
		{"issuer port", func(s *Settings) { s.Auth.BuiltIn.Issuer = "https://cams.example.com:0/API/IDP" },
			[]string{`Auth.BuiltIn.Issuer: port must be from 1 to 65535 (got "https://cams.example.com:0/API/IDP")`}},
		{"audience empty", func(s *Settings) { s.Auth.BuiltIn.Audience = " " },
			[]string{"Auth.BuiltIn.Audience: must not be empty while Auth.BuiltIn.Enabled is true"}},
		{"audience empty, provider off", func(s *Settings) {
			s.Auth.BuiltIn.Enabled = false
			s.Auth.BuiltIn.Audience = ""
		}, nil},
		{"token lifetime too short", func(s *Settings) { s.Auth.BuiltIn.TokenLifetime = Duration(59 * time.Second) },
			[]string{"Auth.BuiltIn.TokenLifetime: must be from 1m to 24h (got 59s)"}},
		{"token lifetime too long", func(s *Settings) { s.Auth.BuiltIn.TokenLifetime = Duration(24*time.Hour + time.Second) },
			[]string{"Auth.BuiltIn.TokenLifetime: must be from 1m to 24h (got 24h0m1s)"}},
		{"token lifetime at its limits", func(s *Settings) {
			s.Auth.BuiltIn.TokenLifetime = Duration(time.Minute)
			s.Auth.BuiltIn.RefreshTokenLifetime = Duration(time.Minute)
		}, nil},
		{"refresh token lifetime too short", func(s *Settings) { s.Auth.BuiltIn.RefreshTokenLifetime = Duration(30 * time.Second) },
			[]string{"Auth.BuiltIn.RefreshTokenLifetime: must be from 1m to 2160h, which is 90 days (got 30s)"}},
		{"refresh token lifetime too long", func(s *Settings) { s.Auth.BuiltIn.RefreshTokenLifetime = Duration(2161 * time.Hour) },
			[]string{"Auth.BuiltIn.RefreshTokenLifetime: must be from 1m to 2160h, which is 90 days (got 2161h0m0s)"}},
		{"refresh token lifetime of 90 days", func(s *Settings) {
			s.Auth.BuiltIn.TokenLifetime = Duration(24 * time.Hour)
			s.Auth.BuiltIn.RefreshTokenLifetime = Duration(2160 * time.Hour)
		}, nil},

		// Auth.Issuers
		{"issuer url missing", func(s *Settings) { s.Auth.Issuers[0].Url = "" },
			[]string{"Auth.Issuers[0].Url: is required"}},
		{"issuer url over http", func(s *Settings) { s.Auth.Issuers[0].Url = "http://keycloak.example.com/realms/video" },
			[]string{`Auth.Issuers[0].Url: must be an https:// URL; http:// is allowed only for a loopback host (127.0.0.1, localhost or [::1]), for tests and a local issuer (got "http://keycloak.example.com/realms/video")`}},
		{"issuer url over http on a LAN address", func(s *Settings) { s.Auth.Issuers[1].Url = "http://192.168.1.5:5556/dex" },
			[]string{`Auth.Issuers[1].Url: must be an https:// URL; http:// is allowed only for a loopback host (127.0.0.1, localhost or [::1]), for tests and a local issuer (got "http://192.168.1.5:5556/dex")`}},
		{"issuer url over http on localhost and ::1", func(s *Settings) {
			s.Auth.Issuers[0].Url = "http://LOCALHOST:8081/realms/video"
			s.Auth.Issuers[1].Url = "http://[::1]:5556/dex"
		}, nil},
		{"issuer url of another scheme", func(s *Settings) { s.Auth.Issuers[0].Url = "wss://keycloak.example.com/realms/video" },
			[]string{`Auth.Issuers[0].Url: must be an https:// URL (got "wss://keycloak.example.com/realms/video")`}},
		{"issuer url without scheme", func(s *Settings) { s.Auth.Issuers[0].Url = "keycloak.example.com/realms/video" },
			[]string{"Auth.Issuers[0].Url: must be an https:// URL"}},
		{"issuer url with a query", func(s *Settings) { s.Auth.Issuers[0].Url = "https://keycloak.example.com/realms/video?x=1" },
			[]string{`Auth.Issuers[0].Url: must not have a query or fragment (got "https://keycloak.example.com/realms/video")`}},
		{"issuer url unparsable", func(s *Settings) { s.Auth.Issuers[0].Url = "https://keycloak.example.com:port/realms" },
			[]string{`Auth.Issuers[0].Url: is not a valid URL (got "https://keycloak.example.com:port/realms")`}},
		{"issuer url with a final slash is fine for an external issuer", func(s *Settings) {
			s.Auth.Issuers[0].Url = "https://tenant.example.auth0.com/"
		}, nil},
		{"issuer url twice, in another case and with a final slash", func(s *Settings) {
			s.Auth.Issuers[1].Url = "https://KEYCLOAK.example.com/realms/video/"
		}, []string{"Auth.Issuers[1].Url: duplicates Auth.Issuers[0].Url"}},
		{"issuer url of the built-in provider", func(s *Settings) { s.Auth.Issuers[1].Url = "https://cams.example.com/API/IDP" },
			[]string{"Auth.Issuers[1].Url: duplicates Auth.BuiltIn.Issuer"}},
		{"issuer url of the built-in provider while it is off", func(s *Settings) {
			s.Auth.BuiltIn.Enabled = false
			s.Auth.Issuers[1].Url = "https://cams.example.com/API/IDP"
		}, nil},
		{"issuer audience missing", func(s *Settings) { s.Auth.Issuers[1].Audience = "" },
			[]string{"Auth.Issuers[1].Audience: is required"}},
		{"roles claim with an empty name", func(s *Settings) { s.Auth.Issuers[0].RolesClaim = "realm_access..roles" },
			[]string{`Auth.Issuers[0].RolesClaim: must be a claim name, or a dotted path of names such as "realm_access.roles" (got "realm_access..roles")`}},
		{"roles claim ending in a dot", func(s *Settings) { s.Auth.Issuers[0].RolesClaim = "realm_access." },
			[]string{`Auth.Issuers[0].RolesClaim: must be a claim name, or a dotted path of names such as "realm_access.roles" (got "realm_access.")`}},
		{"leeway negative", func(s *Settings) { s.Auth.Issuers[0].Leeway = Duration(-time.Second) },
			[]string{"Auth.Issuers[0].Leeway: must be from 0s to 5m (got -1s)"}},
		{"leeway too long", func(s *Settings) { s.Auth.Issuers[0].Leeway = Duration(5*time.Minute + time.Second) },
			[]string{"Auth.Issuers[0].Leeway: must be from 0s to 5m (got 5m1s)"}},
		{"leeway at its limit", func(s *Settings) { s.Auth.Issuers[0].Leeway = Duration(5 * time.Minute) }, nil},
		{"role mapping without value", func(s *Settings) { s.Auth.Issuers[0].RoleMappings[1].Value = "" },
			[]string{"Auth.Issuers[0].RoleMappings[1].Value: is required"}},
		{"role mapping without roles", func(s *Settings) { s.Auth.Issuers[0].RoleMappings[0].Roles = nil },
			[]string{"Auth.Issuers[0].RoleMappings[0].Roles: must list at least one role"}},
		{"role mapping to an unknown role", func(s *Settings) { s.Auth.Issuers[0].RoleMappings[1].Roles[1] = "operatr" },
			[]string{`Auth.Issuers[0].RoleMappings[1].Roles[1]: no such role in Auth.Roles (got "operatr")`}},

		// Auth.Users
		{"user name missing", func(s *Settings) { s.Auth.Users[1].Username = "" },
			[]string{"Auth.Users[1].Username: is required"}},
		{"user name with a colon is not quoted", func(s *Settings) { s.Auth.Users[0].Username = "alice:" + secret },
			[]string{`Auth.Users[0].Username: must not contain ":" or control characters`}},
		{"user name with a control character", func(s *Settings) { s.Auth.Users[0].Username = "alice\n" },
			[]string{`Auth.Users[0].Username: must not contain ":" or control characters`}},
		{"user name with a C1 control character", func(s *Settings) { s.Auth.Users[0].Username = "alice\u0085" },
			[]string{`Auth.Users[0].Username: must not contain ":" or control characters`}},
		{"user name twice, in another case", func(s *Settings) { s.Auth.Users[1].Username = "ALICE" },
			[]string{"Auth.Users[1].Username: duplicates Auth.Users[0].Username (user names are compared regardless of case)"}},
		{"user name with spaces and accents", func(s *Settings) { s.Auth.Users[1].Username = "Zoë Lefèvre" }, nil},
		{"password hash missing", func(s *Settings) { s.Auth.Users[0].PasswordHash = "" },
			[]string{"Auth.Users[0].PasswordHash: is required" + howToHash}},
		{"a password in place of the hash is not quoted", func(s *Settings) { s.Auth.Users[0].PasswordHash = secret },
			[]string{`Auth.Users[0].PasswordHash: must be a bcrypt hash ("$2a$", "$2b$" or "$2y$") or an argon2id hash ("$argon2id$"), not a password` + howToHash}},
		{"an argon2i hash", func(s *Settings) { s.Auth.Users[1].PasswordHash = "$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA" },
			[]string{`Auth.Users[1].PasswordHash: must be a bcrypt hash ("$2a$", "$2b$" or "$2y$") or an argon2id hash ("$argon2id$"), not a password` + howToHash}},
		{"a truncated bcrypt hash", func(s *Settings) { s.Auth.Users[0].PasswordHash = bcryptHash[:59] },
			[]string{`Auth.Users[0].PasswordHash: is not a complete bcrypt hash ("$2b$", a cost from 04 to 31, "$" and 53 characters of [./A-Za-z0-9], 60 characters in all)` + howToHash}},
		{"a bcrypt hash of cost 3", func(s *Settings) { s.Auth.Users[0].PasswordHash = "$2b$03" + bcryptHash[6:] },
			[]string{`Auth.Users[0].PasswordHash: is not a complete bcrypt hash ("$2b$", a cost from 04 to 31, "$" and 53 characters of [./A-Za-z0-9], 60 characters in all)` + howToHash}},
		{"a bcrypt hash with a foreign character", func(s *Settings) { s.Auth.Users[0].PasswordHash = bcryptHash[:59] + "=" },
			[]string{`Auth.Users[0].PasswordHash: is not a complete bcrypt hash ("$2b$", a cost from 04 to 31, "$" and 53 characters of [./A-Za-z0-9], 60 characters in all)` + howToHash}},
		{"bcrypt hashes of every version", func(s *Settings) {
			s.Auth.Users[0].PasswordHash = "$2a$" + bcryptHash[4:]
			s.Auth.Users[1].PasswordHash = "$2y$12" + bcryptHash[6:]
		}, nil},
		{"user with an unknown role", func(s *Settings) { s.Auth.Users[1].Roles = []string{"viewer", "root"} },
			[]string{`Auth.Users[1].Roles[1]: no such role in Auth.Roles (got "root")`}},
		{"user without roles", func(s *Settings) { s.Auth.Users[1].Roles = nil }, nil},
		{"role names match regardless of spaces around them", func(s *Settings) {
			s.Auth.Roles[1].Name = " viewer "
			s.Auth.Users[1].Roles[0] = "VIEWER"
		}, nil},
		// No role is built in: the demo's role "demo" comes from cmd/camgate's overlay.
		{"role demo is not built in", func(s *Settings) { s.Auth.Users[1].Roles = []string{"demo"} },
			[]string{`Auth.Users[1].Roles[0]: no such role in Auth.Roles (got "demo")`}},

		// Auth.Roles
		{"role name missing", func(s *Settings) { s.Auth.Roles[1].Name = "" },
			[]string{
				`Auth.Users[1].Roles[0]: no such role in Auth.Roles (got "viewer")`,
				"Auth.Roles[1].Name: is required",
			}},
		{"role name blank", func(s *Settings) { s.Auth.Roles[0].Name = " " },
			[]string{
				`Auth.Issuers[0].RoleMappings[0].Roles[0]: no such role in Auth.Roles (got "operator")`,
				`Auth.Issuers[0].RoleMappings[1].Roles[1]: no such role in Auth.Roles (got "operator")`,
				`Auth.Users[0].Roles[0]: no such role in Auth.Roles (got "operator")`,
				"Auth.Roles[0].Name: is required",
			}},
		{"role name twice, in another case", func(s *Settings) { s.Auth.Roles[2].Name = "Operator" },
			[]string{
				`Auth.Issuers[0].RoleMappings[1].Roles[0]: no such role in Auth.Roles (got "admin")`,
				`Auth.Users[1].Roles[1]: no such role in Auth.Roles (got "admin")`,
				"Auth.Roles[2].Name: duplicates Auth.Roles[0].Name (role names are compared regardless of case)",
			}},
		{"right naming something else than a camera", func(s *Settings) { s.Auth.Roles[0].Playback = []string{"*", "all"} },
			[]string{`Auth.Roles[0].Playback[1]: must be "*" (every camera) or a camera Id (got "all")`}},
		{"right naming a camera there is not", func(s *Settings) { s.Auth.Roles[1].Live = []string{camB, "33333333-4444-5555-6666-777777777777"} },
			[]string{`Auth.Roles[1].Live[1]: no such camera in Cameras (got "33333333-4444-5555-6666-777777777777")`}},
		{"every right is checked", func(s *Settings) {
			s.Auth.Roles[2] = Role{Name: "admin", Live: []string{"x"}, Playback: []string{"x"}, Ptz: []string{"x"}, Export: []string{"x"}, Admin: []string{"x"}}
		}, []string{
			`Auth.Roles[2].Live[0]: must be "*" (every camera) or a camera Id (got "x")`,
			`Auth.Roles[2].Playback[0]: must be "*" (every camera) or a camera Id (got "x")`,
			`Auth.Roles[2].Ptz[0]: must be "*" (every camera) or a camera Id (got "x")`,
			`Auth.Roles[2].Export[0]: must be "*" (every camera) or a camera Id (got "x")`,
			`Auth.Roles[2].Admin[0]: must be "*" (every camera) or a camera Id (got "x")`,
		}},
		{"right naming a camera in another case", func(s *Settings) { s.Auth.Roles[1].Live = []string{"11111111-2222-3333-4444-55555555555A"} },
			[]string{`Auth.Roles[1].Live[0]: no such camera in Cameras (got "11111111-2222-3333-4444-55555555555A")`}},
		{"a broken camera Id is reported once, not again by the roles naming it", func(s *Settings) { s.Cameras[1].Id = "cam-b" },
			[]string{`Cameras[1].Id: must be a GUID (got "cam-b")`}},

		// The rest of Auth
		{"session grace negative", func(s *Settings) { s.Auth.SessionGrace = Duration(-time.Second) },
			[]string{"Auth.SessionGrace: must be from 0s to 1h (got -1s)"}},
		{"session grace too long", func(s *Settings) { s.Auth.SessionGrace = Duration(61 * time.Minute) },
			[]string{"Auth.SessionGrace: must be from 0s to 1h (got 1h1m0s)"}},
		{"session grace at its limits", func(s *Settings) { s.Auth.SessionGrace = 0 }, nil},
		{"session grace of an hour", func(s *Settings) { s.Auth.SessionGrace = Duration(time.Hour) }, nil},
		{"sign-in failures zero", func(s *Settings) { s.Auth.SignInFailuresPerMinute = 0 },
			[]string{"Auth.SignInFailuresPerMinute: must be from 1 to 1000 (got 0)"}},
		{"sign-in failures too many", func(s *Settings) { s.Auth.SignInFailuresPerMinute = 1001 },
			[]string{"Auth.SignInFailuresPerMinute: must be from 1 to 1000 (got 1001)"}},
		{"sign-in failures at its limits", func(s *Settings) { s.Auth.SignInFailuresPerMinute = 1000 }, nil},

		{"every problem at once, in field order", func(s *Settings) {
			s.CORS.AllowOrigin = ""
			s.Auth.SignInFailuresPerMinute = 0
			s.Auth.Roles[0].Live[0] = "any"
			s.Auth.Users[0].PasswordHash = ""
			s.Auth.Issuers[0].Audience = ""
			s.Auth.BuiltIn.Audience = ""
			s.Auth.BuiltIn.Enabled = false
			s.Auth.Issuers[1].Url = "http://dex.example.com"
			s.DataDir = ""
			s.Logging.Level = "x"
		}, []string{
			"DataDir: must not be empty",
			`Auth.Issuers[0].Audience: is required`,
			`Auth.Issuers[1].Url: must be an https:// URL; http:// is allowed only for a loopback host (127.0.0.1, localhost or [::1]), for tests and a local issuer (got "http://dex.example.com")`,
			"Auth.Users[0].PasswordHash: is required" + howToHash,
			`Auth.Roles[0].Live[0]: must be "*" (every camera) or a camera Id (got "any")`,
			"Auth.SignInFailuresPerMinute: must be from 1 to 1000 (got 0)",
			`CORS.Access-Control-Allow-Origin: must not be empty while CORS.Enabled is true; list origins such as "https://portal.example.com", or "*" for any`,
			`Logging.Level: must be "debug", "info", "warn" or "error" (got "x")`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s)
			checkErrors(t, s.Validate(), tc.errs)
		})
	}
}

func TestValidateCORSRules(t *testing.T) {
	const originForm = "; an origin is scheme://host[:port] with scheme http or https, or null"
	cases := []struct {
		name   string
		mutate func(*CORS)
		errs   []string
		want   *CORS // the normalized result, when errs is nil and it differs from the input
	}{
		{"off, with empty lists", func(c *CORS) { *c = CORS{} }, nil, nil},
		{"off, a bad origin is still reported", func(c *CORS) {
			c.Enabled = false
			c.AllowOrigin = "portal.example.com"
		}, []string{`CORS.Access-Control-Allow-Origin: "portal.example.com" is not an origin` + originForm}, nil},
		{"any origin", func(c *CORS) { c.AllowOrigin = " * " }, nil,
			&CORS{Enabled: true, AllowOrigin: "*", AllowHeaders: "Authorization, Content-Type", AllowMethods: "GET, POST, PATCH, DELETE"}},
		{"XProtect's documented block", func(c *CORS) { *c = CORS{Enabled: true, AllowOrigin: "*", AllowHeaders: "*", AllowMethods: "*"} }, nil, nil},
		{"origin list empty", func(c *CORS) { c.AllowOrigin = " , " },
			[]string{`CORS.Access-Control-Allow-Origin: must not be empty while CORS.Enabled is true; list origins such as "https://portal.example.com", or "*" for any`}, nil},
		{"headers empty", func(c *CORS) { c.AllowHeaders = "" },
			[]string{`CORS.Access-Control-Allow-Headers: must not be empty while CORS.Enabled is true; "*" allows the headers the browser asks for`}, nil},
		{"methods empty", func(c *CORS) { c.AllowMethods = "" },
			[]string{`CORS.Access-Control-Allow-Methods: must not be empty while CORS.Enabled is true; "*" allows the method the browser asks for`}, nil},
		{"star in a list", func(c *CORS) {
			c.AllowOrigin = "https://a.example, *"
			c.AllowHeaders = "*,Authorization"
			c.AllowMethods = "GET,*"
		}, []string{
			`CORS.Access-Control-Allow-Origin: "*" must stand alone: it already allows everything`,
			`CORS.Access-Control-Allow-Headers: "*" must stand alone: it already allows everything`,
			`CORS.Access-Control-Allow-Methods: "*" must stand alone: it already allows everything`,
		}, nil},
		{"origin without scheme", func(c *CORS) { c.AllowOrigin = "https://a.example, portal.example.com" },
			[]string{`CORS.Access-Control-Allow-Origin: "portal.example.com" is not an origin` + originForm}, nil},
		{"origin of another scheme", func(c *CORS) { c.AllowOrigin = "file://" },
			[]string{`CORS.Access-Control-Allow-Origin: "file://" is not an origin: the scheme must be http or https`}, nil},
		{"origin with a path", func(c *CORS) { c.AllowOrigin = "https://portal.example.com/app/" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://portal.example.com/app/" is not an origin: it has a path` + originForm}, nil},
		{"origin with a query", func(c *CORS) { c.AllowOrigin = "https://portal.example.com?a=b" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://portal.example.com" is not an origin: it has a query or fragment` + originForm}, nil},
		{"origin with a password", func(c *CORS) { c.AllowOrigin = "https://u:" + secret + "@portal.example.com" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://portal.example.com" is not an origin: it must not hold a user name or password`}, nil},
		{"origin with a wildcard", func(c *CORS) { c.AllowOrigin = "https://*.example.com" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://*.example.com" is not an origin: it must name a host (no wildcards)`}, nil},
		{"origin without host", func(c *CORS) { c.AllowOrigin = "https://:8443" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://:8443" is not an origin: it must name a host (no wildcards)`}, nil},
		{"origin with an IPv6 zone", func(c *CORS) { c.AllowOrigin = "http://[fe80::1%25eth0]:8080" },
			[]string{`CORS.Access-Control-Allow-Origin: "http://[fe80::1%25eth0]:8080" is not an origin: it must name a host (no wildcards)`}, nil},
		{"origin port", func(c *CORS) { c.AllowOrigin = "https://portal.example.com:65536" },
			[]string{`CORS.Access-Control-Allow-Origin: "https://portal.example.com:65536" is not an origin: the port must be from 1 to 65535`}, nil},
		{"every bad origin is reported", func(c *CORS) { c.AllowOrigin = "a, https://b.example, c" },
			[]string{
				`CORS.Access-Control-Allow-Origin: "a" is not an origin` + originForm,
				`CORS.Access-Control-Allow-Origin: "c" is not an origin` + originForm,
			}, nil},
		{"origins normalized", func(c *CORS) {
			c.AllowOrigin = "Null , HTTP://Portal.Example.com:80/, https://192.0.2.1:8443,https://[2001:DB8::1]:443, http://portal.example.com"
		}, nil, &CORS{
			Enabled:      true,
			AllowOrigin:  "null, http://portal.example.com, https://192.0.2.1:8443, https://[2001:db8::1]",
			AllowHeaders: "Authorization, Content-Type",
			AllowMethods: "GET, POST, PATCH, DELETE",
		}},
		{"header that is not a token", func(c *CORS) { c.AllowHeaders = "Authorization, X Custom, X-Ok, Bad:" },
			[]string{
				"CORS.Access-Control-Allow-Headers: \"X Custom\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)",
				"CORS.Access-Control-Allow-Headers: \"Bad:\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)",
			}, nil},
		{"method that is not a token", func(c *CORS) { c.AllowMethods = "GET, PO ST" },
			[]string{"CORS.Access-Control-Allow-Methods: \"PO ST\" is not a method name (letters, digits and !#$%&'*+-.^_`|~)"}, nil},
		{"headers and methods normalized", func(c *CORS) {
			c.AllowHeaders = " authorization ,content-type,,authorization"
			c.AllowMethods = "get,Patch, options,GET"
		}, nil, &CORS{
			Enabled:      true,
			AllowOrigin:  "https://portal.example.com, http://localhost:3000, null",
			AllowHeaders: "authorization, content-type",
			AllowMethods: "GET, PATCH, OPTIONS",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s.CORS)
			in := s.CORS
			s.Normalize()
			err := s.Validate()
			checkErrors(t, err, tc.errs)
			want := in
			if tc.want != nil {
				want = *tc.want
			}
			if err == nil && s.CORS != want {
				t.Errorf("got  %+v\nwant %+v", s.CORS, want)
			}
			if err == nil {
				again := s.CORS
				s.Normalize()
				if err := s.Validate(); err != nil {
					t.Fatalf("a second Validate failed: %v", err)
				}
				if s.CORS != again {
					t.Errorf("a second Normalize changed %+v into %+v", again, s.CORS)
				}
			}
		})
	}
}
