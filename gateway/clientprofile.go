package gateway

import "github.com/camgate/camgate/oauth"

// renewer is an Authenticator that can vouch again for a user whose token
// expired (oauth.Service.Renew), which relay sessions need.
type renewer interface {
	Renew(*oauth.Principal) (*oauth.Principal, error)
}

// renewOf is a's Renew, or nil when it has none: relay sessions then end
// with their token like the others.
func renewOf(a Authenticator) func(*oauth.Principal) (*oauth.Principal, error) {
	if r, ok := a.(renewer); ok {
		return r.Renew
	}
	return nil
}
