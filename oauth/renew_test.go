package oauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRenew: a principal of a configured user is renewed with the rights
// its roles give now and a fresh expiry, keeping its client id; a user who
// is not configured, or another issuer's principal, is not.
func TestRenew(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	form := passwordForm("Bob", bobPassword, ClientGrantValidator)
	tok := postToken(t, svc.Service, form, "198.51.100.1:5000").str("access_token")
	p, err := svc.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != ClientGrantValidator {
		t.Fatalf("ClientID %q, want %q", p.ClientID, ClientGrantValidator)
	}
	svc.clock.Add(2 * time.Hour) // long past the token's expiry
	q, err := svc.Renew(p)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if !q.SameCaller(p) || q.ClientID != p.ClientID || !q.Can(RightLive, cam2) || q.Can(RightLive, cam1) {
		t.Fatalf("renewed principal %+v does not carry bob's current rights", q)
	}
	if want := svc.clock.Now().Add(time.Hour); q.ExpiresAt.Before(want.Add(-time.Second)) || q.ExpiresAt.After(want) {
		t.Fatalf("renewed until %v, want one token lifetime from now (%v)", q.ExpiresAt, want)
	}

	gone := &Principal{Issuer: p.Issuer, Subject: "user:mallory"}
	if _, err := svc.Renew(gone); !errors.Is(err, ErrCannotRenew) {
		t.Fatalf("Renew of a user not configured: %v, want ErrCannotRenew", err)
	}
	foreign := &Principal{Issuer: "https://idp.example", Subject: "user:bob"}
	if _, err := svc.Renew(foreign); !errors.Is(err, ErrCannotRenew) {
		t.Fatalf("Renew of another issuer's principal: %v, want ErrCannotRenew", err)
	}
}
