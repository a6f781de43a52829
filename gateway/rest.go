package gateway

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
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

func sessionJSON(s *Session) sessionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := sessionResponse{
		SessionID: s.ID, DeviceID: s.CameraID, CameraID: s.CameraID, StreamID: s.StreamID,
		OfferSDP: s.offer,
	}
	if s.answer != "" {
		a := s.answer
		r.AnswerSDP = &a
	}
	return r
}

type candidatesResponse struct {
	SessionID  string   `json:"sessionId"`
	Candidates []string `json:"candidates"`
}

// postSession creates a session: POST …/WebRTC/Session. Exactly 200 on
// success (go2rtc rejects anything else).
func (g *Gateway) postSession(c *gin.Context) {
	var req sessionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if !req.PlaybackTimeNode.isLive() {
		writeError(c, errorf(http.StatusNotImplemented,
			"playback of recorded video is not available in this version of camgate; omit playbackTimeNode.playbackTime for live video"))
		return
	}
	s, err := g.sessions.create(c.Request.Context(), createRequest{
		DeviceID:   req.device(),
		StreamID:   strings.TrimSpace(string(req.StreamID)),
		IceServers: req.IceServers,
		ClientIP:   clientAddr(c.Request),
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, sessionJSON(s))
}

// patchSession applies an answer or a new token: PATCH …/Session/{id}, and
// the legacy aliases PATCH …/WebRTCSession/{id} and PUT …/Session.
func (g *Gateway) patchSession(c *gin.Context) {
	var req sessionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	id := c.Param("id")
	if id == "" {
		id = strings.TrimSpace(string(req.SessionID))
	}
	s, err := g.sessions.get(id)
	if err != nil {
		writeError(c, err)
		return
	}
	if req.AnswerSDP == nil && req.Token == nil {
		writeError(c, errorf(http.StatusBadRequest, "nothing to update: send answerSDP or token"))
		return
	}
	if req.AnswerSDP != nil {
		if err := s.SetAnswer(string(*req.AnswerSDP)); err != nil {
			writeError(c, err)
			return
		}
	}
	if req.Token != nil {
		// Stored for the bearer-token checks; never logged or echoed.
		s.mu.Lock()
		s.token = string(*req.Token)
		s.mu.Unlock()
	}
	c.JSON(http.StatusOK, sessionJSON(s))
}

// deleteSession ends a session. Deleting one that already ended succeeds:
// the client's intent holds.
func (g *Gateway) deleteSession(c *gin.Context) {
	s, err := g.sessions.get(c.Param("id"))
	var ended errSessionEnded
	if errors.As(err, &ended) {
		c.JSON(http.StatusOK, gin.H{"sessionId": strings.ToLower(c.Param("id"))})
		return
	}
	if err != nil {
		writeError(c, err)
		return
	}
	s.Close()
	c.JSON(http.StatusOK, gin.H{"sessionId": s.ID})
}

// getCandidates returns the server's candidates, cumulative and never null:
// clients poll it every 20 ms from right after the POST.
func (g *Gateway) getCandidates(c *gin.Context) {
	s, err := g.sessions.get(c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, candidatesResponse{SessionID: s.ID, Candidates: s.Candidates()})
}

// postCandidates takes client candidates; the path's id is authoritative
// (the sample omits sessionId from the body).
func (g *Gateway) postCandidates(c *gin.Context) {
	s, err := g.sessions.get(c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	var req candidatesRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := s.AddCandidates(req.Candidates); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, candidatesResponse{SessionID: s.ID, Candidates: []string{}})
}

// clientAddr is the TCP peer of a request. X-Forwarded-For is not trusted:
// anyone can send it.
func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
