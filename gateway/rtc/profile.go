package rtc

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/gateway/internal/errtext"
)

// Profile is the kind of client a session serves. It decides three things
// the client cannot negotiate in SDP (docs/clients.md):
//
//   - the RTP clock: XProtect's clients (browsers) count video RTP
//     timestamps in milliseconds (WebRTC.RtpClock), which their frame clock
//     needs, while every other stack takes the SDP's 90 kHz at its word: a
//     relay such as go2rtc passes the timestamps through and its output ran
//     at 1/90 of real time;
//   - the catch-up: a browser gets the cached GOP as a fast-forward (frames
//     1 ms apart, shown as they come); a relay re-serves the timestamps to
//     decoders that honour them, so it gets the GOP with its real spacing;
//   - the token expiry: a relay that signed in with the password grant
//     cannot refresh, so its session is renewed from the user's current
//     rights (Deps.Renew) instead of ending an hour in.
//
// Signaling chooses it (from the client's OAuth client id or a session
// parameter); rtc knows nothing of client ids.
type Profile uint8

const (
	// ProfileAuto leaves the choice to the client's answer: an answer
	// that advertises trickle ICE (a=ice-options:trickle, which every
	// browser sends) is a browser's, any other a relay's (go2rtc's pion
	// answers with neither trickle nor candidates).
	ProfileAuto Profile = iota
	// ProfileBrowser is an XProtect client in a browser (the XProtect
	// sample, camgate's console): the WebRTC.RtpClock clock, fast-forward
	// catch-up, the session ends with its token.
	ProfileBrowser
	// ProfileRelay re-serves the stream (go2rtc, a recorder): 90 kHz,
	// catch-up with real timestamps, renewed past its token's expiry.
	ProfileRelay
	// ProfileWHEP is a standard player (WHEP, RFC 9725) in a browser or
	// not: the SDP's 90 kHz clock, fast-forward catch-up, the session
	// ends with its token.
	ProfileWHEP
)

// numProfiles bounds the profiles' values.
const numProfiles = ProfileWHEP + 1

func (p Profile) String() string {
	switch p {
	case ProfileAuto:
		return "auto"
	case ProfileBrowser:
		return "browser"
	case ProfileRelay:
		return "relay"
	case ProfileWHEP:
		return "whep"
	}
	return fmt.Sprintf("Profile(%d)", p)
}

// ParseProfile reads a profile's name (any case; "" is auto). Unknown
// names are BadInput naming field and the names allowed.
func ParseProfile(field, name string) (Profile, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return ProfileAuto, nil
	}
	for p := range numProfiles {
		if p.String() == name {
			return p, nil
		}
	}
	return ProfileAuto, Errorf(BadInput, "%s %s is not a client profile: use auto, browser, relay or whep", field, errtext.Quote(name, 32))
}

// fastForward reports whether the profile's catch-up is the browser's
// fast-forward (frames 1 ms apart) rather than the GOP's real spacing.
func (p Profile) fastForward() bool { return p != ProfileRelay }

// renewsToken reports whether a session of the profile is renewed from its
// user's current rights when its token expires, rather than ended.
func (p Profile) renewsToken() bool { return p == ProfileRelay }

// clockFor is the RTP clock of a profile: the setting's (milliseconds by
// default) for browsers and an undecided profile, 90 kHz, the SDP's, for
// everyone else.
func (m *Manager) clockFor(p Profile) rtpClock {
	if p == ProfileRelay || p == ProfileWHEP {
		return rtpClock{ticksPerSecond: 90000}
	}
	return m.clock
}

// answerProfile is the profile an answer shows (ProfileAuto): a browser's
// when it advertises trickle ICE, at session or media level, else a
// relay's. desc passed CheckAnswer.
func answerProfile(desc webrtc.SessionDescription) Profile {
	parsed, err := desc.Unmarshal()
	if err != nil {
		return ProfileBrowser
	}
	trickle := func(v string) bool {
		for _, o := range strings.Fields(v) {
			if strings.EqualFold(o, "trickle") {
				return true
			}
		}
		return false
	}
	if v, ok := parsed.Attribute("ice-options"); ok && trickle(v) {
		return ProfileBrowser
	}
	for _, m := range parsed.MediaDescriptions {
		if v, ok := m.Attribute("ice-options"); ok && trickle(v) {
			return ProfileBrowser
		}
	}
	return ProfileRelay
}

// decideProfile sets the profile the answer showed, before the media
// starts (it starts once the answer is applied and ICE connects): a live
// session takes the profile's clock; a playback session keeps the clock
// its player started with. s.mu is held.
func (s *Session) decideProfile(p Profile) {
	s.profile = p
	if _, live := s.source.(*liveSource); live && s.clockFor != nil {
		s.clock = s.clockFor(p)
	}
	if p != ProfileAuto {
		s.log.Info("client profile decided by the answer", "profile", p.String())
	}
}
