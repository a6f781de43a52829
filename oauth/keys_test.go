package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/camgate/camgate/appsettings"
)

func TestSigningKeyFileIsCreatedPrivate(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	svc := newTestService(t, s)
	dir := filepath.Join(s.DataDir, "oauth")
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "signing-keys.json"): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, info.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the key folder holds %d entries, want only the key file (no temporary left)", len(entries))
	}
	set := svc.keys.keys()
	if set.active == nil || set.active.private.N.BitLen() < 2048 || set.active.kid == "" {
		t.Fatalf("active key %+v", set.active)
	}
	if time.Duration(set.file.LongestTokenLifetime) != time.Hour {
		t.Errorf("recorded token lifetime %v", set.file.LongestTokenLifetime)
	}
	if strings.Contains(svc.logs.String(), "PRIVATE KEY") {
		t.Error("the log holds key material")
	}
}

// A second Service on the same DataDir (a restart) verifies the first one's
// tokens: the key is persisted, not regenerated.
func TestSigningKeySurvivesRestart(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	first := newTestService(t, s)
	token := signIn(t, first.Service, "alice", alicePassword).str("access_token")
	kid := first.keys.keys().active.kid
	first.Close()

	second := newTestService(t, s)
	if got := second.keys.keys().active.kid; got != kid {
		t.Fatalf("active kid after restart %q, want %q", got, kid)
	}
	if _, err := second.Verify(context.Background(), token); err != nil {
		t.Fatalf("token of the first service: %v", err)
	}
}

// Rotation: the running service picks up the new key within the reload
// interval, keeps verifying tokens of the old one, and lists both.
func TestRotationKeepsLiveTokensValid(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	svc := newTestService(t, s)
	before := signIn(t, svc.Service, "alice", alicePassword).str("access_token")
	oldKid := svc.keys.keys().active.kid

	newKid, err := RotateSigningKey(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid || newKid == "" {
		t.Fatalf("new kid %q", newKid)
	}
	svc.clock.Add(keyReloadInterval)

	after := signIn(t, svc.Service, "alice", alicePassword).str("access_token")
	jws, _, terr := parseUnverified(after)
	if terr != nil {
		t.Fatal(terr)
	}
	if got := jws.Signatures[0].Header.KeyID; got != newKid {
		t.Fatalf("token after rotation signed with %q, want %q", got, newKid)
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		if _, err := svc.Verify(context.Background(), tok); err != nil {
			t.Errorf("token %s rotation: %v", name, err)
		}
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/API/IDP/.well-known/jwks", nil)
	svc.HandleJWKS(w, r)
	checkOpenAPI(t, r, w)
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(w.Body.Bytes(), &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 2 || jwks.Keys[0].KeyID != newKid || jwks.Keys[1].KeyID != oldKid {
		t.Fatalf("JWKS keys %v, want [%s %s]", kids(jwks), newKid, oldKid)
	}
	for _, k := range jwks.Keys {
		if !k.IsPublic() || k.Algorithm != "RS256" || k.Use != "sig" {
			t.Fatalf("JWKS key %s: public %v alg %q use %q", k.KeyID, k.IsPublic(), k.Algorithm, k.Use)
		}
	}
	if strings.Contains(w.Body.String(), `"d"`) {
		t.Fatal("the JWKS holds private key material")
	}
}

func kids(s jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// A token signed with a key the service has not loaded yet (another process
// rotated a moment ago) makes it look at the file at once.
func TestUnknownKidReloadsAtOnce(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	b := newTestService(t, s)
	if _, err := RotateSigningKey(s.DataDir); err != nil {
		t.Fatal(err)
	}
	a := newTestService(t, s) // starts with the new key; b's clock has not moved
	token := signIn(t, a.Service, "alice", alicePassword).str("access_token")
	if _, err := b.Verify(context.Background(), token); err != nil {
		t.Fatalf("b did not pick up the rotated key: %v", err)
	}
}

func TestRotationPrunesOldRetiredKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "oauth", "signing-keys.json")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first, err := rotateSigningKey(path, t0) // creates the file
	if err != nil {
		t.Fatal(err)
	}
	second, _ := rotateSigningKey(path, t0.Add(time.Hour)) // retires first
	// No lifetime recorded: retired keys are kept 24 h + the margin.
	third, _ := rotateSigningKey(path, t0.Add(time.Hour+defaultKeyRetention)) // retires second; first is within 24h15m
	set, err := readKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.byKid) != 3 || set.active.kid != third {
		t.Fatalf("keys %d, active %q", len(set.byKid), set.active.kid)
	}
	fourth, _ := rotateSigningKey(path, t0.Add(2*time.Hour+defaultKeyRetention+retiredKeyMargin))
	set, _ = readKeySet(path)
	if set.byKid[first] != nil || set.byKid[second] == nil || set.byKid[third] == nil || set.active.kid != fourth {
		t.Fatalf("after pruning: %v", keyIDs(set))
	}
}

func keyIDs(s *keySet) []string {
	var out []string
	for k := range s.byKid {
		out = append(out, k)
	}
	return out
}

// A service records its token lifetime in the key file, and rotation keeps
// retired keys that long.
func TestRotationHonoursRecordedLifetime(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.BuiltIn.TokenLifetime = appsettings.Duration(48 * time.Hour)
	newTestService(t, s).Close()
	path := keysPath(s.DataDir)
	set, _ := readKeySet(path)
	first := set.active.kid
	now := set.active.created
	if _, err := rotateSigningKey(path, now); err != nil {
		t.Fatal(err)
	}
	if _, err := rotateSigningKey(path, now.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	set, _ = readKeySet(path)
	if set.byKid[first] == nil {
		t.Fatal("a key retired 30 h ago was pruned although tokens live 48 h")
	}
}

func TestCorruptKeyFileFailsNew(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not JSON":      "{",
		"wrong version": `{"version":7,"keys":[]}`,
		"no keys":       `{"version":1,"keys":[]}`,
		"bad key":       `{"version":1,"keys":[{"kid":"a","created":"2026-01-01T00:00:00Z","privateKey":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := testSettings(t)
			path := keysPath(s.DataDir)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(context.Background(), Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: testIssuer})
			if err == nil {
				t.Fatal("New accepted a broken key file")
			}
			if strings.Contains(err.Error(), "AAAA") {
				t.Fatalf("the error quotes key material: %v", err)
			}
			// The broken file is left for a person to look at.
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Fatal("New overwrote the broken key file")
			}
		})
	}
}

// A key file broken after start does not stop a running service: it keeps
// the keys it has, and says so once.
func TestBrokenKeyFileAfterStartKeepsKeys(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	svc := newTestService(t, s)
	if err := os.WriteFile(keysPath(s.DataDir), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		svc.clock.Add(keyReloadInterval)
		signIn(t, svc.Service, "alice", alicePassword)
	}
	if n := strings.Count(svc.logs.String(), "cannot reload the signing keys"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, svc.logs)
	}
}
