package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
)

// nodeIssuer is a real OIDC issuer: e2e/oidc-issuer.mjs (npm oidc-provider)
// on loopback. See that file for its clients, roles and resources.
type nodeIssuer struct {
	url string
}

// firstLine is an io.Writer for a child's stdout that hands over the first
// line once and keeps the rest.
type firstLine struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
	line chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf.Write(p)
	if line, _, found := strings.Cut(f.buf.String(), "\n"); !f.sent && found {
		f.sent = true
		f.line <- strings.TrimSpace(line)
	}
	return len(p), nil
}

// startNodeIssuer runs the issuer with node from the repository root. It
// skips the test when node or the npm package is missing, except under
// CI=true, where a missing part must fail the run rather than hide it.
func startNodeIssuer(t *testing.T) *nodeIssuer {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true, so this is a failure, not a skip)", what)
		}
		t.Skip(what)
	}
	root, err := filepath.Abs("..") // the tests run in oauth/
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed; the external-issuer test needs it")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", "oidc-provider", "package.json")); err != nil {
		missing("e2e/node_modules/oidc-provider is missing; run npm ci --prefix e2e")
	}
	cmd := exec.Command(node, "e2e/oidc-issuer.mjs", "0", "--stop-on-stdin-close")
	cmd.Dir = root
	stdout := &firstLine{line: make(chan string, 1)}
	stderr := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// If the test binary dies without its cleanup, the closed stdin stops
	// the issuer.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the issuer: %v", err)
	}
	// exited closes when the child has ended; waitErr is then its status.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		<-exited
	})
	// A guard against a hung child, not a speed check.
	select {
	case line := <-stdout.line:
		if !strings.HasPrefix(line, "http://127.0.0.1:") {
			t.Fatalf("the issuer printed %q; stderr:\n%s", line, stderr)
		}
		return &nodeIssuer{url: line}
	case <-exited:
		t.Fatalf("the issuer exited (%v) before it printed its URL; stderr:\n%s", waitErr, stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the issuer printed no URL within a minute; stderr:\n%s", stderr)
	}
	return nil
}

// token gets an access token with the client_credentials grant; resource
// picks the audience ("urn:camgate" → "camgate", "urn:other" →
// "not-camgate").
func (n *nodeIssuer) token(t *testing.T, client, resource string) string {
	t.Helper()
	resp, err := http.PostForm(n.url+"/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {client + "-secret"},
		"resource": {resource},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
		t.Fatalf("issuer token endpoint: %d %q %v", resp.StatusCode, body.Error, err)
	}
	return body.AccessToken
}

func externalSettings(t *testing.T, issuerURL, rolesClaim string) appsettings.Settings {
	s := appsettings.Defaults()
	s.DataDir = t.TempDir()
	s.Auth.BuiltIn.Enabled = false
	s.Auth.Issuers = []appsettings.Issuer{{
		Url: issuerURL, Audience: "camgate", RolesClaim: rolesClaim, Leeway: appsettings.Duration(30 * time.Second),
		RoleMappings: []appsettings.RoleMapping{
			{Value: "cam-operators", Roles: []string{"operators"}},
			{Value: "cam-viewers", Roles: []string{"viewers"}},
		},
	}}
	s.Auth.Roles = []appsettings.Role{
		{Name: "operators", Live: []string{"*"}, Ptz: []string{cam1}},
		{Name: "viewers", Live: []string{cam2}},
	}
	return s
}

func TestExternalIssuerOIDCProvider(t *testing.T) {
	t.Parallel()
	iss := startNodeIssuer(t)
	stranger := startNodeIssuer(t) // a real issuer camgate is not configured for

	svc := newTestService(t, externalSettings(t, iss.url, "realm_access.roles"))
	svc.clock.Set(time.Now()) // the issuer's tokens carry real times
	ctx := context.Background()

	t.Run("mapped role", func(t *testing.T) {
		tok := iss.token(t, "operator", "urn:camgate")
		p, err := svc.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.Issuer != iss.url || p.Subject != "operator" || strings.Join(p.Roles, ",") != "operators" {
			t.Fatalf("principal %+v", p)
		}
		if !p.Can(RightPTZ, cam1) || !p.Can(RightLive, cam2) || p.Can(RightPTZ, cam2) || p.Can(RightAdmin, cam1) {
			t.Fatal("the operators role's rights are wrong")
		}
		again, err := svc.Verify(ctx, iss.token(t, "operator", "urn:camgate"))
		if err != nil || !p.SameCaller(again) {
			t.Fatalf("a second token of the same client is not the same caller: %v", err)
		}
	})
	t.Run("unmapped values grant nothing", func(t *testing.T) {
		p, err := svc.Verify(ctx, iss.token(t, "viewer", "urn:camgate"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(p.Roles, ",") != "viewers" || !p.Can(RightLive, cam2) || p.CanSee(cam1) {
			t.Fatalf("principal %+v", p)
		}
		p, err = svc.Verify(ctx, iss.token(t, "nobody", "urn:camgate"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Roles) != 0 || p.CanSee(cam1) || p.CanSee(cam2) {
			t.Fatalf("a token without roles has rights: %+v", p)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		if got := reasonOf(t, verifyErr(svc.Service, iss.token(t, "operator", "urn:other"))); got != ReasonAudience {
			t.Fatalf("reason %q", got)
		}
	})
	t.Run("wrong issuer", func(t *testing.T) {
		if got := reasonOf(t, verifyErr(svc.Service, stranger.token(t, "operator", "urn:camgate"))); got != ReasonIssuer {
			t.Fatalf("reason %q", got)
		}
	})
	t.Run("tampered signature", func(t *testing.T) {
		if got := reasonOf(t, verifyErr(svc.Service, tamper(iss.token(t, "operator", "urn:camgate")))); got != ReasonSignature {
			t.Fatalf("reason %q", got)
		}
	})
	t.Run("another issuer's token passed off as this one's", func(t *testing.T) {
		// Signed by the stranger's key (a kid this issuer does not know),
		// with "iss" rewritten; go-oidc refetches the JWKS and still finds
		// no key.
		parts := strings.Split(stranger.token(t, "operator", "urn:camgate"), ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := strings.Replace(string(payload), stranger.url, iss.url, 1)
		tok := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
		if got := reasonOf(t, verifyErr(svc.Service, tok)); got != ReasonSignature {
			t.Fatalf("reason %q", got)
		}
	})
	t.Run("expiry with leeway", func(t *testing.T) {
		tok := iss.token(t, "operator", "urn:camgate")
		_, claims, terr := parseUnverified(tok)
		if terr != nil {
			t.Fatal(terr)
		}
		exp := claims.Expiry.Time()
		defer svc.clock.Set(time.Now())
		svc.clock.Set(exp.Add(29 * time.Second)) // within the 30 s leeway
		if _, err := svc.Verify(ctx, tok); err != nil {
			t.Fatalf("within the leeway: %v", err)
		}
		svc.clock.Set(exp.Add(31 * time.Second))
		if got := reasonOf(t, verifyErr(svc.Service, tok)); got != ReasonExpired {
			t.Fatalf("past the leeway: %q", got)
		}
	})

	// The default RolesClaim "roles" reads the plain list.
	plain := newTestService(t, externalSettings(t, iss.url, ""))
	plain.clock.Set(time.Now())
	p, err := plain.Verify(ctx, iss.token(t, "operator", "urn:camgate"))
	if err != nil || !p.Can(RightPTZ, cam1) {
		t.Fatalf("RolesClaim roles: %v %+v", err, p)
	}
}
