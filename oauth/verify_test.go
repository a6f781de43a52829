package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// sign makes a JWS of claims with key (kid in the header).
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned makes a token with the given header and claims and a junk
// signature, for algorithms no signer offers.
func unsigned(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}

// tamper changes one character of the token's signature.
func tamper(token string) string {
	i := strings.LastIndex(token, ".") + 5
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func TestVerifyBuiltInRefusals(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	good := signIn(t, svc.Service, "alice", alicePassword).str("access_token")
	key := svc.keys.keys().active
	now := svc.clock.Now()
	claims := func(mut func(*accessClaims)) accessClaims {
		c := accessClaims{Claims: jwt.Claims{
			Issuer: testIssuer, Subject: "user:alice", Audience: jwt.Audience{"camgate"},
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
		}, Roles: []string{"operators"}}
		if mut != nil {
			mut(&c)
		}
		return c
	}
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])

	for _, tc := range []struct {
		name, token, reason string
	}{
		{"empty", "", ReasonMissing},
		{"blank", "   ", ReasonMissing},
		{"not a JWT", "hello", ReasonMalformed},
		{"two parts", parts[0] + "." + parts[1], ReasonMalformed},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], ReasonMalformed},
		{"payload not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], ReasonMalformed},
		{"over 64 KB", parts[0] + "." + strings.Repeat("A", 70000) + "." + parts[2], ReasonMalformed},
		{"alg none", unsigned(`{"alg":"none","typ":"JWT"}`, string(payload)), ReasonAlgorithm},
		{"alg none, no signature", strings.TrimSuffix(unsigned(`{"alg":"none"}`, string(payload)), "c2ln"), ReasonAlgorithm},
		{"alg HS256", unsigned(`{"alg":"HS256","kid":"`+key.kid+`"}`, string(payload)), ReasonAlgorithm},
		{"alg missing", unsigned(`{"kid":"`+key.kid+`"}`, string(payload)), ReasonAlgorithm},
		{"ES256 for the built-in issuer", sign(t, jose.ES256, ec, key.kid, claims(nil)), ReasonAlgorithm},
		{"tampered signature", tamper(good), ReasonSignature},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "operators", "admins___", 1))) + "." + parts[2], ReasonSignature},
		{"signed by another key, same kid", sign(t, jose.RS256, otherRSA, key.kid, claims(nil)), ReasonSignature},
		{"unknown kid", sign(t, jose.RS256, otherRSA, "no-such-key", claims(nil)), ReasonUnknownKey},
		{"unknown issuer", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Issuer = "https://evil.example" })), ReasonIssuer},
		{"no issuer", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Issuer = "" })), ReasonIssuer},
		{"wrong audience", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Audience = jwt.Audience{"other"} })), ReasonAudience},
		{"no expiry", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Expiry = nil })), ReasonNoExpiry},
		{"expired", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Expiry = jwt.NewNumericDate(now) })), ReasonExpired},
		{"not yet valid", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Second)) })), ReasonNotYetValid},
		{"no subject", sign(t, jose.RS256, key.private, key.kid, claims(func(c *accessClaims) { c.Subject = "" })), ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Verify(context.Background(), tc.token)
			if got := reasonOf(t, err); got != tc.reason {
				var te *TokenError
				errors.As(err, &te)
				t.Fatalf("reason %q, want %q (cause: %v)", got, tc.reason, te.cause)
			}
			if tok := strings.TrimSpace(tc.token); tok != "" && strings.Contains(err.Error(), tok) {
				t.Fatal("the error quotes the token")
			}
		})
	}
	// The good token, and one made here the same way, pass.
	for _, tok := range []string{good, sign(t, jose.RS256, key.private, key.kid, claims(nil))} {
		if _, err := svc.Verify(context.Background(), tok); err != nil {
			t.Fatalf("good token: %v", err)
		}
	}
}

// An issued token expires after TokenLifetime by the service's clock, and is
// not valid before it was issued.
func TestIssuedTokenExpires(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	tok := signIn(t, svc.Service, "alice", alicePassword).str("access_token")
	svc.clock.Add(time.Hour - time.Second)
	if _, err := svc.Verify(context.Background(), tok); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	svc.clock.Add(time.Second)
	if got := reasonOf(t, verifyErr(svc.Service, tok)); got != ReasonExpired {
		t.Fatalf("at expiry: %q", got)
	}
	svc.clock.Add(-2 * time.Hour)
	if got := reasonOf(t, verifyErr(svc.Service, tok)); got != ReasonNotYetValid {
		t.Fatalf("before issue: %q", got)
	}
}

func TestTokenErrorUnwrapsCause(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	_, err := svc.Verify(context.Background(), "a.b.c")
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != ReasonMalformed || te.Unwrap() == nil || te.Error() != ReasonMalformed {
		t.Fatalf("err %#v", err)
	}
}

func TestClaimStrings(t *testing.T) {
	t.Parallel()
	claims := map[string]any{
		"roles":        []any{"a", 7, "b"},
		"group":        "g",
		"realm_access": map[string]any{"roles": []any{"kc"}},
		"deep":         map[string]any{"x": map[string]any{"y": "z"}},
		"num":          3.0,
	}
	for path, want := range map[string]string{
		"roles": "a,b", "group": "g", "realm_access.roles": "kc", "deep.x.y": "z",
		"num": "", "missing": "", "roles.x": "", "realm_access": "", "group.x": "",
	} {
		if got := strings.Join(claimStrings(claims, strings.Split(path, ".")), ","); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
