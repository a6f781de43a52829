package oauth

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Refresh tokens outlive a restart: a second service on the same DataDir
// redeems a token the first one issued, the rotation and the reuse check
// go on across the restart, and the file holds hashes, never a token.
func TestRefreshTokensSurviveARestart(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	first := newTestService(t, s)
	r1 := signIn(t, first.Service, "alice", alicePassword).str("refresh_token")
	a := postToken(t, first.Service, refreshForm(r1), "198.51.100.1:1")
	if a.status != 200 {
		t.Fatalf("refresh before the restart: %d %s", a.status, a.raw)
	}
	r2 := a.str("refresh_token")
	first.Close()

	data, err := os.ReadFile(refreshPath(s.DataDir))
	if err != nil {
		t.Fatalf("the refresh tokens are not on disk: %v", err)
	}
	if strings.Contains(string(data), r1) || strings.Contains(string(data), r2) {
		t.Fatalf("the file holds a refresh token itself:\n%s", data)
	}
	if info, err := os.Stat(refreshPath(s.DataDir)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v, want 0600", info.Mode(), err)
	}

	second := newTestService(t, s)
	b := postToken(t, second.Service, refreshForm(r2), "198.51.100.1:1")
	if b.status != 200 || b.str("refresh_token") == "" {
		t.Fatalf("refresh after the restart: %d %s", b.status, b.raw)
	}
	// r1 was spent before the restart: presenting it is still reuse,
	// which revokes the chain, the token just issued included.
	if a := postToken(t, second.Service, refreshForm(r1), "203.0.113.9:1"); a.status != 400 || a.str("error") != errInvalidGrant {
		t.Fatalf("reuse after the restart: %d %s", a.status, a.raw)
	}
	if a := postToken(t, second.Service, refreshForm(b.str("refresh_token")), "198.51.100.1:1"); a.status != 400 {
		t.Fatalf("newest token after reuse: %d %s", a.status, a.raw)
	}
}

// Tokens that expired while camgate was down are not loaded, and a file
// that cannot be read is replaced with a warning, not a failed start.
func TestRefreshFileExpiredAndDamaged(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	first := newTestService(t, s)
	r := signIn(t, first.Service, "alice", alicePassword).str("refresh_token")
	first.Close()

	later := newTestService(t, s)
	later.clock.Add(time.Duration(s.Auth.BuiltIn.RefreshTokenLifetime) + time.Minute)
	// The clock moved after New: the token was loaded, and expires now.
	if a := postToken(t, later.Service, refreshForm(r), "198.51.100.1:1"); a.status != 400 {
		t.Fatalf("expired token: %d %s", a.status, a.raw)
	}
	later.Close()

	if err := os.WriteFile(refreshPath(s.DataDir), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := newTestService(t, s)
	if !strings.Contains(damaged.logs.String(), "refresh token file cannot be read") {
		t.Fatalf("no warning for a damaged file:\n%s", damaged.logs)
	}
	r = signIn(t, damaged.Service, "alice", alicePassword).str("refresh_token")
	if a := postToken(t, damaged.Service, refreshForm(r), "198.51.100.1:1"); a.status != 200 {
		t.Fatalf("a new sign-in after a damaged file: %d %s", a.status, a.raw)
	}
}

// One user keeps at most maxChainsPerUser sign-ins with refresh tokens:
// the next sign-in revokes the one that expires first.
func TestRefreshChainsPerUserAreBounded(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	var tokens []string
	for range maxChainsPerUser + 1 {
		tokens = append(tokens, signIn(t, svc.Service, "alice", alicePassword).str("refresh_token"))
		svc.clock.Add(time.Second) // each chain expires after the one before
	}
	if a := postToken(t, svc.Service, refreshForm(tokens[0]), "198.51.100.1:1"); a.status != 400 {
		t.Fatalf("the oldest sign-in's token after %d more: %d %s", maxChainsPerUser, a.status, a.raw)
	}
	for _, r := range tokens[1:] {
		if a := postToken(t, svc.Service, refreshForm(r), "198.51.100.1:1"); a.status != 200 {
			t.Fatalf("a sign-in within the bound: %d %s", a.status, a.raw)
		}
	}
	if n := len(svc.refresh.chains); n != maxChainsPerUser {
		t.Fatalf("%d chains kept, want %d", n, maxChainsPerUser)
	}
}
