package signaling

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/gateway/rtc"
)

// sessionResponse is the session object of the REST contract. Property
// names are exact: clients read sessionId and offerSDP case-sensitively. The
// token is write-only and never appears here.
type sessionResponse struct {
	SessionID    string  `json:"sessionId"`
	DeviceID     string  `json:"deviceId"`
	CameraID     string  `json:"cameraId"`
	StreamID     string  `json:"streamId"`
	IncludeAudio bool    `json:"includeAudio"`
	OfferSDP     string  `json:"offerSDP"`
	AnswerSDP    *string `json:"answerSDP"`
}

func sessionJSON(s *rtc.Session) sessionResponse {
	r := sessionResponse{
		SessionID: s.ID, DeviceID: s.CameraID, CameraID: s.CameraID, StreamID: s.StreamID,
		OfferSDP: descriptionJSON(s.Offer()),
	}
	if answer, ok := s.Answer(); ok {
		a := descriptionJSON(answer)
		r.AnswerSDP = &a
	}
	return r
}

type candidatesResponse struct {
	SessionID  string   `json:"sessionId"`
	Candidates []string `json:"candidates"`
}

// PostSession creates a session: POST …/WebRTC/Session. Exactly 200 on
// success (go2rtc rejects anything else).
func (a *API) PostSession(c *gin.Context) {
	var req sessionRequest
	if err := bindJSON(c, &req); err != nil {
		WriteError(c, err)
		return
	}
	var pb *rtc.Playback
	if n := req.PlaybackTimeNode; !n.isLive() {
		var err error
		if pb, err = parsePlayback(string(n.PlaybackTime), n.Speed, n.SkipGaps, restPlaybackNames()); err != nil {
			WriteError(c, err)
			return
		}
	}
	profile, err := clientProfile("clientProfile", string(req.ClientProfile), PrincipalOf(c))
	if err != nil {
		WriteError(c, err)
		return
	}
	s, err := a.sessions.Create(c.Request.Context(), rtc.CreateRequest{
		Profile:    profile,
		Owner:      OwnerOf(PrincipalOf(c)),
		DeviceID:   req.device(),
		StreamID:   strings.TrimSpace(string(req.StreamID)),
		IceServers: iceServersOf(req.IceServers),
		ClientIP:   a.clientAddr(c.Request),
		Playback:   pb,
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, sessionJSON(s))
}

// PatchSession applies an answer or a new token: PATCH …/Session/{id}, and
// the legacy aliases PATCH …/WebRTCSession/{id} and PUT …/Session.
func (a *API) PatchSession(c *gin.Context) {
	var req sessionRequest
	if err := bindJSON(c, &req); err != nil {
		WriteError(c, err)
		return
	}
	id := c.Param("id")
	if id == "" {
		id = strings.TrimSpace(string(req.SessionID))
	}
	s, err := a.ownedSession(c, id)
	if err != nil {
		WriteError(c, err)
		return
	}
	if req.AnswerSDP == nil && req.Token == nil {
		WriteError(c, Errorf(http.StatusBadRequest, "nothing to update: send answerSDP or token"))
		return
	}
	if req.Token != nil {
		if err := a.replaceToken(c, s, string(*req.Token)); err != nil {
			Deny(c, err)
			return
		}
	}
	if req.AnswerSDP != nil {
		if err := setAnswer(s, string(*req.AnswerSDP)); err != nil {
			WriteError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, sessionJSON(s))
}

// DeleteSession ends a session. Deleting one that already ended succeeds:
// the client's intent holds.
func (a *API) DeleteSession(c *gin.Context) {
	s, err := a.ownedSession(c, c.Param("id"))
	if rtc.KindOf(err) == rtc.Gone {
		c.JSON(http.StatusOK, gin.H{"sessionId": strings.ToLower(c.Param("id"))})
		return
	}
	if err != nil {
		WriteError(c, err)
		return
	}
	s.Close()
	c.JSON(http.StatusOK, gin.H{"sessionId": s.ID})
}

// GetCandidates returns the server's candidates, cumulative and never null:
// clients poll it every 20 ms from right after the POST.
func (a *API) GetCandidates(c *gin.Context) {
	s, err := a.ownedSession(c, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, candidatesResponse{SessionID: s.ID, Candidates: candidatesJSON(s.Candidates())})
}

// PostCandidates takes client candidates; the path's id is authoritative
// (the sample omits sessionId from the body).
func (a *API) PostCandidates(c *gin.Context) {
	s, err := a.ownedSession(c, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	var req candidatesRequest
	if err := bindJSON(c, &req); err != nil {
		WriteError(c, err)
		return
	}
	if err := addCandidates(s, req.Candidates); err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, candidatesResponse{SessionID: s.ID, Candidates: []string{}})
}

// clientAddr is the address of the client that sent r, for every use the
// gateway has for it: sessions' mDNS substitution (REST and WebSocket), the
// sign-in rate limit, Metrics.AllowFrom and the log. It is the TCP peer,
// unless the peer is in Http.TrustedProxies; then it is the address the
// proxies forwarded in Http.ForwardedHeader (see clientaddr.Resolver).
func (a *API) clientAddr(r *http.Request) netip.Addr { return a.clients.Addr(r) }

// ownedSession finds a session that belongs to the caller. Another user's
// session is a 403: a session id is not a capability.
func (a *API) ownedSession(c *gin.Context, id string) (*rtc.Session, error) {
	return a.sessions.Owned(id, OwnerOf(PrincipalOf(c)))
}

// replaceToken checks a token sent in a PATCH body and makes it the
// session's: it must be valid (else 401), of the same user, and still carry
// the session's right on the camera, live or playback (else 403). The
// token is never echoed.
func (a *API) replaceToken(c *gin.Context, s *rtc.Session, raw string) error {
	if t, ok := BearerToken(raw); ok {
		raw = t // a body token written as "Bearer …", any case
	}
	p, err := VerifyToken(c.Request.Context(), a.auth, strings.TrimSpace(raw))
	if err != nil {
		return err
	}
	return s.ReplaceOwner(OwnerOf(p))
}
