package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// client talks to one camgate: the token endpoint and the signaling of
// docs/api.md, REST or WebSocket, and builds the viewers' pion peer
// connections.
type client struct {
	base   string // http://host:port (without /API)
	camera string // deviceId
	http   *http.Client
	api    *webrtc.API
	token  string
	// ws is the WebSocket signaling (--flow ws); nil: the REST flow.
	ws *wsPool
	// noCandidates makes REST viewers answer without candidates and never
	// send any, as go2rtc does (--flow rest-no-candidates).
	noCandidates bool
}

// Signaling flows (--flow).
const (
	flowREST = "rest"
	flowWS   = "ws"
	// flowRESTNoCandidates is the REST flow by a client that tells camgate
	// no candidate: camgate finds it only by its connectivity checks.
	flowRESTNoCandidates = "rest-no-candidates"
)

// flow is the signaling flow the viewers use.
func (c *client) flow() string {
	switch {
	case c.ws != nil:
		return flowWS
	case c.noCandidates:
		return flowRESTNoCandidates
	}
	return flowREST
}

// newClient prepares the HTTP client and the pion API shared by the
// viewers. With interceptors, each viewer behaves like a browser: it sends
// receiver reports, transport-wide congestion control feedback and NACKs
// (at most 10 per missing packet), so camgate does the RTCP work it does
// for real viewers.
func newClient(base, camera string, interceptors bool) (*client, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: []webrtc.RTCPFeedback{
				{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"},
				{Type: "nack"}, {Type: "nack", Parameter: "pli"},
			},
		},
		PayloadType: 96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if interceptors {
		// pion's defaults for a receiver, except that a missing packet is
		// NACKed at most 10 times (every 100 ms), as Chrome does; pion's
		// generator would otherwise repeat it for as long as it is in its
		// 512-packet window.
		if err := webrtc.ConfigureNackWithOptions(m, reg, []nack.GeneratorOption{nack.GeneratorMaxNacksPerPacket(10)}); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureRTCPReports(reg); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &client{
		base:   strings.TrimRight(base, "/"),
		camera: camera,
		http:   &http.Client{Transport: tr, Timeout: 30 * time.Second},
		api:    api,
	}, nil
}

// signIn gets an access token with the password grant, as XProtect clients
// do; every viewer then uses it. The client id picks camgate's client
// profile (docs/clients.md): the XProtect browser sample's VmsClient, or,
// for viewers that answer without candidates as go2rtc does, go2rtc's
// GrantValidatorClient, which leaves the choice to the SDP answer.
func (c *client) signIn(ctx context.Context, user, password string) error {
	clientID := "VmsClient"
	if c.noCandidates {
		clientID = "GrantValidatorClient"
	}
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {clientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/API/IDP/connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return fmt.Errorf("sign in as %q: %s: %s", user, resp.Status, truncate(string(body), 200))
	}
	c.token = tok.AccessToken
	return nil
}

// call sends a JSON request to an /API path with the bearer token and
// decodes a 200 answer into out (which may be nil).
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, truncate(string(b), 300))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: answer: %w", method, path, err)
		}
	}
	return nil
}

// waitStreaming waits until camgate reports the camera as streaming.
func (c *client) waitStreaming(ctx context.Context) error {
	var last string
	for {
		var resp struct {
			// XProtect's collection envelope (docs/api.md).
			Cameras []struct {
				ID    string `json:"id"`
				State string `json:"state"`
				Error string `json:"detail"`
			} `json:"array"`
		}
		err := c.call(ctx, http.MethodGet, "/API/rest/v1/cameras", nil, &resp)
		if err != nil {
			last = err.Error()
		} else {
			last = "camera " + c.camera + " is not listed"
			for _, cam := range resp.Cameras {
				if strings.EqualFold(cam.ID, c.camera) {
					if cam.State == "streaming" {
						return nil
					}
					last = "camera state " + cam.State + " " + cam.Error
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("camera not streaming: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// open signals one viewer's session with the client's flow. It returns
// once the answer is sent; the media follows.
func (c *client) open(ctx context.Context, v *viewer) error {
	if c.ws != nil {
		return c.ws.open(ctx, v)
	}
	return c.openREST(ctx, v)
}

// openREST runs the REST flow for one viewer: POST Session, answer, PATCH.
// The answer is sent once the viewer's (loopback) candidates are gathered,
// so it carries them and no candidate requests are needed; camgate's offer
// already holds all of its own. With noCandidates the answer goes as
// created, before gathering, and the viewer's candidates are never sent.
func (c *client) openREST(ctx context.Context, v *viewer) error {
	v.posted = time.Now()
	var created struct {
		SessionID string `json:"sessionId"`
		OfferSDP  string `json:"offerSDP"`
	}
	if err := c.call(ctx, http.MethodPost, "/API/REST/v1/WebRTC/Session", map[string]any{
		"deviceId": c.camera, "includeAudio": false, "playbackTimeNode": map[string]any{},
	}, &created); err != nil {
		return err
	}
	v.sessionID = created.SessionID
	v.mark(&v.phases.Offer)
	var offer webrtc.SessionDescription
	if err := json.Unmarshal([]byte(created.OfferSDP), &offer); err != nil {
		return fmt.Errorf("offerSDP: %w", err)
	}
	pc, err := c.newPeer(v)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(offer); err != nil {
		return fmt.Errorf("set offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return err
	}
	sent := &answer
	if !c.noCandidates {
		select {
		case <-gathered:
		case <-ctx.Done():
			return ctx.Err()
		}
		sent = pc.LocalDescription()
	}
	ans, err := json.Marshal(sent)
	if err != nil {
		return err
	}
	if err := c.call(ctx, http.MethodPatch, "/API/REST/v1/WebRTC/Session/"+v.sessionID, map[string]string{"answerSDP": string(ans)}, nil); err != nil {
		return err
	}
	v.mark(&v.phases.Answered)
	return nil
}

// newPeer makes the viewer's peer connection, which reads the track and
// marks the phases of the first frame; it is v.pc.
func (c *client) newPeer(v *viewer) (*webrtc.PeerConnection, error) {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	v.pc = pc
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { v.receive(tr) })
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s == webrtc.ICEConnectionStateConnected {
			v.mark(&v.phases.ICE)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			v.mark(&v.phases.Connected)
		}
	})
	return pc, nil
}

// close ends a viewer: DELETE its session (over REST in both flows, as
// camgate's console does: the WebSocket contract has no method for it),
// then close its peer connection.
func (c *client) close(ctx context.Context, v *viewer) {
	if c.ws != nil {
		c.ws.release(v)
	}
	if v.sessionID != "" {
		_ = c.call(ctx, http.MethodDelete, "/API/REST/v1/WebRTC/Session/"+v.sessionID, nil, nil)
	}
	if v.pc != nil {
		_ = v.pc.Close()
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// scrapeMetrics reads camgate's /metrics (loopback may scrape without a
// token) and sums each sample's value by metric name over its labels. A
// camgate without the endpoint gives an error, and the figures that need it
// are left out.
func (c *client) scrapeMetrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(b)), nil
}

// parseMetrics sums the samples of the Prometheus text format by name.
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest, ok = line[:i], strings.TrimSpace(line[j+1:]), true
		}
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out
}
