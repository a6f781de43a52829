package appsettings

import "time"

// Auth configures who may do what: camgate's built-in identity provider,
// external OIDC issuers, users, and roles that grant rights on cameras.
type Auth struct {
	// BuiltIn is camgate's own identity provider (the token endpoint at
	// /API/IDP/connect/token).
	BuiltIn BuiltInProvider
	// Issuers are external OIDC issuers (Keycloak, Entra ID, Dex, …) whose
	// access tokens camgate accepts. Default: none.
	Issuers []Issuer
	// Users are the accounts of the built-in provider. Default: none (the
	// demo adds user "demo").
	Users []User
	// Roles grant rights on cameras. Default: none.
	Roles []Role
	// SessionGrace is how long a media session may outlive its token when
	// the client sends no new one, before camgate closes it. Default: "60s".
	SessionGrace Duration
	// SignInFailuresPerMinute is how many failed sign-ins one user name, and
	// separately one client address, may make per minute before further
	// attempts are refused with "slow_down"-style errors. Default: 10.
	SignInFailuresPerMinute int
}

// BuiltInProvider configures camgate's identity provider.
type BuiltInProvider struct {
	// Enabled turns the token endpoint and camgate-issued tokens on.
	// Default: true.
	Enabled bool
	// Issuer is the "iss" of camgate's tokens and the base of its OIDC
	// discovery document. It must be the URL clients reach camgate's IDP at,
	// http or https, without a final "/".
	// Default: "" which means "http://<Http.Listen>/API/IDP".
	Issuer string
	// Audience is the "aud" of camgate's tokens. Default: "camgate".
	Audience string
	// TokenLifetime is the lifetime of an access token. Default: "1h".
	TokenLifetime Duration
	// RefreshTokenLifetime is how long a refresh token (client VmsClient)
	// can be used. Default: "24h".
	RefreshTokenLifetime Duration
}

// Issuer is an external OIDC issuer whose access tokens camgate accepts.
type Issuer struct {
	// Url is the issuer URL, exactly as the "iss" of its tokens; camgate
	// reads Url + "/.well-known/openid-configuration". https, or http on a
	// loopback host only. Required.
	Url string
	// Audience is the "aud" camgate requires in the issuer's tokens.
	// Required.
	Audience string
	// RolesClaim is the claim that carries the user's roles or groups, as a
	// dotted path for nested claims ("realm_access.roles" in Keycloak).
	// Default: "roles" (ApplyDefaults fills it in when empty).
	RolesClaim string
	// RoleMappings map values of RolesClaim to camgate roles. Default: none,
	// which means a token of this issuer has no rights.
	RoleMappings []RoleMapping
	// Leeway is the clock skew allowed when checking "exp" and "nbf", at
	// most 5m. Default: "30s" (ApplyDefaults turns 0 into it).
	Leeway Duration
}

// RoleMapping maps one value of an issuer's roles claim to camgate roles.
type RoleMapping struct {
	// Value is the claim value, for example a Keycloak role or a group.
	Value string
	// Roles are the camgate roles it grants. Validate rewrites each name in
	// the spelling of Auth.Roles.
	Roles []string
}

// User is an account of the built-in provider.
type User struct {
	// Username, compared case-insensitively; no ":" or control characters.
	// Required.
	Username string
	// PasswordHash is a bcrypt ("$2b$…") or argon2id ("$argon2id$…") hash;
	// "camgate hash-password" prints one. Required.
	PasswordHash string
	// Roles are the names of the user's roles, in the spelling of
	// Auth.Roles after Validate. Default: none.
	Roles []string
}

// Role grants rights on cameras. Each right lists camera ids, or "*" for
// every camera. A caller's rights are the union of its roles' rights.
type Role struct {
	// Name of the role, unique regardless of case. Required.
	Name string
	// Live is the right to watch live video. Default: none.
	Live []string
	// Playback is the right to watch recorded video. Default: none.
	Playback []string
	// Ptz is the right to steer the camera. Default: none.
	Ptz []string
	// Export is the right to download recordings. Default: none.
	Export []string
	// Admin is every right on the camera. Default: none.
	Admin []string
}

// CORS is the cross-origin policy, with the keys XProtect's API Gateway uses.
// Each value is "*" or a comma-separated list. Validate rewrites the lists in
// a normal form: entries joined with ", ", without empty entries or repeats;
// origins lower-case, without a final "/" or a default port, as browsers
// send them; methods in upper case.
type CORS struct {
	// Enabled turns the policy on. Off means same-origin only. Default: false.
	Enabled bool
	// AllowOrigin lists the origins that may call camgate ("*" for any;
	// "null" for pages opened from a file). Default: "".
	AllowOrigin string `setting:"Access-Control-Allow-Origin"`
	// AllowHeaders lists the request headers allowed; "*" echoes what the
	// browser asks for (so Authorization works). Default: "*".
	AllowHeaders string `setting:"Access-Control-Allow-Headers"`
	// AllowMethods lists the methods allowed; "*" echoes what the browser
	// asks for. Default: "*".
	AllowMethods string `setting:"Access-Control-Allow-Methods"`
}

// Auth and CORS defaults, applied by Defaults.
func defaultAuth() Auth {
	return Auth{
		BuiltIn: BuiltInProvider{
			Enabled:              true,
			Audience:             "camgate",
			TokenLifetime:        Duration(time.Hour),
			RefreshTokenLifetime: Duration(24 * time.Hour),
		},
		SessionGrace:            Duration(60 * time.Second),
		SignInFailuresPerMinute: 10,
	}
}

func defaultCORS() CORS {
	return CORS{AllowHeaders: "*", AllowMethods: "*"}
}
