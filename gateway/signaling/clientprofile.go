package signaling

import (
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
)

// clientProfile chooses a session's client profile (docs/clients.md): the
// clientProfile parameter when the client gives one (field names it in the
// error), else by its OAuth client id: VmsClient is the XProtect sample
// of 2025 R1 and later or camgate's console, browsers. Any other client id
// (GrantValidatorClient is both go2rtc and the older samples, an external
// issuer's client is unknown) leaves the choice to the client's answer
// (rtc.ProfileAuto).
func clientProfile(field, param string, p *oauth.Principal) (rtc.Profile, error) {
	chosen, err := rtc.ParseProfile(field, param)
	if err != nil || chosen != rtc.ProfileAuto {
		return chosen, err
	}
	if p != nil && p.ClientID == oauth.ClientVms {
		return rtc.ProfileBrowser, nil
	}
	return rtc.ProfileAuto, nil
}
