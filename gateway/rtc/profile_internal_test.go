package rtc

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
)

// answerSDP is a minimal answer, with extra session-level and media-level
// lines.
func answerSDP(session, media string) webrtc.SessionDescription {
	sdp := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + session +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 H264/90000\r\n" + media
	return webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}
}

func TestAnswerProfile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		session, media string
		want           Profile
	}{
		{"pion without trickle (go2rtc)", "", "", ProfileRelay},
		{"Firefox: trickle at session level", "a=ice-options:trickle\r\n", "", ProfileBrowser},
		{"Chrome: trickle in the media section", "", "a=ice-options:trickle renomination\r\n", ProfileBrowser},
		{"other ice-options only", "a=ice-options:renomination\r\n", "", ProfileRelay},
	}
	for _, c := range cases {
		if got := answerProfile(answerSDP(c.session, c.media)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestParseProfile(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Profile{"": ProfileAuto, "Relay": ProfileRelay, "BROWSER": ProfileBrowser, "whep": ProfileWHEP, "auto": ProfileAuto} {
		if got, err := ParseProfile("clientProfile", in); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	_, err := ParseProfile("clientProfile", "vlc")
	var e *Error
	if !errors.As(err, &e) || e.Kind != BadInput || !strings.Contains(err.Error(), "clientProfile") || !strings.Contains(err.Error(), "relay") {
		t.Fatalf("ParseProfile(vlc) = %v, want BadInput naming the field and the profiles", err)
	}
}

// expiringSession is a session without a peer connection whose owner's
// token has expired, to run tokenExpired on.
func expiringSession(p Profile, renew RenewFunc) (*Session, Owner) {
	owner := &fakeOwner{user: "relay", expires: time.Now(), rights: map[Right][]string{RightLive: {"*"}}}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{ID: "s", CameraID: "cam", log: slog.New(slog.DiscardHandler), right: RightLive,
		profile: p, renew: renew, ctx: ctx, cancel: cancel, owner: owner}
	return s, owner
}

// waitEnded waits (bounded, for a hang only) for the session to end.
func waitEnded(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
}

func TestTokenExpiryByProfile(t *testing.T) {
	t.Parallel()
	renewed := func(rights bool) RenewFunc {
		return func(p Owner) (Owner, error) {
			q := &fakeOwner{user: p.User(), expires: time.Now().Add(time.Hour)}
			if rights {
				q.rights = map[Right][]string{RightLive: {"cam"}}
			}
			return q, nil
		}
	}
	t.Run("a relay whose user keeps the right is renewed", func(t *testing.T) {
		t.Parallel()
		s, owner := expiringSession(ProfileRelay, renewed(true))
		defer s.Close()
		s.tokenExpired(owner)
		if s.Ended() || s.Owner() == owner || s.Owner().ExpiresAt().Before(time.Now().Add(time.Minute)) {
			t.Fatalf("ended %v, owner renewed %v", s.Ended(), s.Owner() != owner)
		}
	})
	gone := func(Owner) (Owner, error) { return nil, errors.New("cannot renew without a new token") }
	ends := []struct {
		name    string
		profile Profile
		renew   RenewFunc
	}{
		{"a relay whose user lost the right ends", ProfileRelay, renewed(false)},
		{"a relay whose user is gone ends", ProfileRelay, gone},
		{"a browser ends with its token", ProfileBrowser, renewed(true)},
		{"a relay without a renewer ends", ProfileRelay, nil},
	}
	for _, c := range ends {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, owner := expiringSession(c.profile, c.renew)
			s.tokenExpired(owner)
			waitEnded(t, s)
		})
	}
}

// TestRelayTimestamps: a relay's catch-up keeps the GOP's spacing, and a
// replay (PLI) continues after what was sent, never stepping back.
func TestRelayTimestamps(t *testing.T) {
	t.Parallel()
	l := newLiveSource(nil, cameras.CodecH264, 0, rtpClock{ticksPerSecond: 90000}, time.Now())
	l.fastForward = false
	var got []int64
	for i := range 3 { // the cached GOP
		got = append(got, l.timestamp(catchUpItem(int64(i)*3600, i == 0)))
	}
	for i := 3; i < 5; i++ { // live
		got = append(got, l.timestamp(liveItem(int64(i)*3600)))
	}
	for i := range 5 { // the whole GOP again, after a PLI
		got = append(got, l.timestamp(catchUpItem(int64(i)*3600, i == 0)))
	}
	got = append(got, l.timestamp(liveItem(5*3600)))
	for i := 1; i < len(got); i++ {
		if got[i]-got[i-1] != 3600 {
			t.Fatalf("timestamps %v: step %d is %d, want 3600", got, i, got[i]-got[i-1])
		}
	}
}

func catchUpItem(dts int64, key bool) cameras.Item {
	return cameras.Item{Frame: &cameras.Frame{DTS: dts, Key: key, Arrived: time.Now()}, CatchUp: true}
}

func liveItem(dts int64) cameras.Item {
	return cameras.Item{Frame: &cameras.Frame{DTS: dts, Arrived: time.Now()}}
}
