package signaling

import (
	"errors"
	"testing"
	"time"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
)

// OwnerOf answers rtc as the principal does: the same rights (admin
// implying the others), the same user across tokens, the same expiry, and
// a nil principal is a nil Owner, not an Owner around nil.
func TestOwnerOf(t *testing.T) {
	t.Parallel()
	if o := OwnerOf(nil); o != nil {
		t.Fatalf("OwnerOf(nil) = %#v, want a nil rtc.Owner", o)
	}
	exp := time.Now().Add(time.Hour)
	p := &oauth.Principal{Issuer: "camgate", Subject: "user:a", Name: "a", ExpiresAt: exp}
	p.Grant(oauth.RightPlayback, "cam1")
	p.Grant(oauth.RightAdmin, "cam2")
	o := OwnerOf(p)
	for _, c := range []struct {
		right  rtc.Right
		camera string
		want   bool
	}{
		{rtc.RightPlayback, "CAM1", true}, {rtc.RightLive, "cam1", false}, {rtc.RightPTZ, "cam1", false},
		{rtc.RightLive, "cam2", true}, {rtc.RightPTZ, "cam2", true}, {rtc.RightAdmin, "cam2", true},
		{rtc.Right("export"), "cam2", false}, // no oauth right of rtc's: refused, even to an admin
	} {
		if got := o.Can(c.right, c.camera); got != c.want {
			t.Errorf("Can(%s, %s) = %v, want %v", c.right, c.camera, got, c.want)
		}
	}
	if !o.ExpiresAt().Equal(exp) || o.Caller() != "user a" {
		t.Errorf("ExpiresAt %v, Caller %q; want %v, \"user a\"", o.ExpiresAt(), o.Caller(), exp)
	}
	same := OwnerOf(&oauth.Principal{Issuer: "camgate", Subject: "user:a"})
	other := OwnerOf(&oauth.Principal{Issuer: "other", Subject: "user:a"})
	if o.User() != same.User() || o.User() == other.User() || o == same || o != OwnerOf(p) {
		t.Errorf("users: %q %q %q; a new token of one user must be the same user, not the same owner", o.User(), same.User(), other.User())
	}
}

// RenewOwners hands the principal to the identity provider's renewal and
// its answer back as an owner; without a renewal there is none.
func TestRenewOwners(t *testing.T) {
	t.Parallel()
	if RenewOwners(nil) != nil {
		t.Fatal("RenewOwners(nil) is not nil: relay sessions would outlive their tokens")
	}
	p := &oauth.Principal{Issuer: "camgate", Subject: "user:relay"}
	q := &oauth.Principal{Issuer: "camgate", Subject: "user:relay", ExpiresAt: time.Now().Add(time.Hour)}
	var asked *oauth.Principal
	renew := RenewOwners(func(x *oauth.Principal) (*oauth.Principal, error) {
		asked = x
		if x != p {
			return nil, oauth.ErrCannotRenew
		}
		return q, nil
	})
	got, err := renew(OwnerOf(p))
	if err != nil || asked != p || got != OwnerOf(q) {
		t.Fatalf("renew = %v, %v (asked for %v); want the owner of the renewed principal", got, err, asked)
	}
	if _, err := renew(OwnerOf(q)); !errors.Is(err, oauth.ErrCannotRenew) {
		t.Fatalf("renew of a principal the provider refuses: %v, want its error", err)
	}
	if _, err := renew(otherOwner{}); !errors.Is(err, errNotPrincipal) {
		t.Fatalf("renew of an owner signaling did not make: %v, want errNotPrincipal", err)
	}
}

// otherOwner is an rtc.Owner that is not a token's principal.
type otherOwner struct{}

func (otherOwner) User() string                { return "x" }
func (otherOwner) Caller() string              { return "x" }
func (otherOwner) Can(rtc.Right, string) bool  { return true }
func (otherOwner) ExpiresAt() (zero time.Time) { return zero }
