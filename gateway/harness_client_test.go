package gateway_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// xprotectClient plays a camera the way the XProtect WebRTC JavaScript
// sample does, with a pion peer in place of the browser.
type xprotectClient struct {
	t         *testing.T
	env       *testEnv
	pc        *webrtc.PeerConnection
	sessionID string
	posted    time.Time
	// hold is how long the client waits for a missing packet (see
	// reorder): reorderHold with NACKs, else 0.
	hold time.Duration

	mu        sync.Mutex
	frames    []receivedFrame
	seqs      []uint16 // RTP sequence numbers in order of arrival
	firstKey  time.Time
	frameCh   chan struct{}
	commands  *webrtc.DataChannel
	cmdReplys chan string
}

type receivedFrame struct {
	nalus     [][]byte
	timestamp uint32
	// lastSeq is the sequence number of the frame's last packet (the one
	// with the marker).
	lastSeq uint16
	arrived time.Time
}

func (f receivedFrame) types() []h264.NALUType {
	var out []h264.NALUType
	for _, n := range f.nalus {
		out = append(out, h264.NALUType(n[0]&0x1f))
	}
	return out
}

func (f receivedFrame) isKey() bool {
	for _, n := range f.nalus {
		if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
			return true
		}
	}
	return false
}

// loopbackClientSettings keep a test viewer's ICE on IPv4 loopback.
func loopbackClientSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return se
}

func clientAPI(t *testing.T) *webrtc.API {
	se := loopbackClientSettings()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

// nackClientAPI is a viewer like clientAPI that, as a browser, asks for
// lost packets again (RTCP NACK) and keeps a browser's SRTP replay window
// (libwebrtc: 1024 packets; pion's 64 would drop a late resend as a
// replay). A busy machine loses packets on loopback when the client's
// goroutines fall behind its socket; with it, tests that count every
// frame do not depend on the machine being quiet.
func nackClientAPI(t *testing.T) *webrtc.API {
	se := loopbackClientSettings()
	se.SetSRTPReplayProtectionWindow(1024)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// playNACK runs the REST flow with a viewer of nackClientAPI, which waits
// up to reorderHold for a packet it asked for again.
func (e *testEnv) playNACK(body any) *xprotectClient {
	e.t.Helper()
	return e.playWithHold(nackClientAPI(e.t), reorderHold, body)
}

// play runs the REST flow for the given session-create body.
func (e *testEnv) play(body any) *xprotectClient {
	e.t.Helper()
	return e.playWith(clientAPI(e.t), body)
}

// playWith runs the REST flow with a client built on api.
func (e *testEnv) playWith(api *webrtc.API, body any) *xprotectClient {
	e.t.Helper()
	return e.playWithHold(api, 0, body)
}

// playWithHold runs the REST flow with a client built on api that waits up
// to hold for a missing packet before it goes on without it.
func (e *testEnv) playWithHold(api *webrtc.API, hold time.Duration, body any) *xprotectClient {
	e.t.Helper()
	c := &xprotectClient{t: e.t, env: e, hold: hold, frameCh: make(chan struct{}, 1), cmdReplys: make(chan string, 16)}
	c.posted = time.Now()
	var offer webrtc.SessionDescription
	c.sessionID, offer = e.createSession(e.token, body)

	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		e.t.Fatal(err)
	}
	c.pc = pc
	e.t.Cleanup(func() { _ = pc.Close() })
	pc.OnTrack(c.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		b, _ := json.Marshal(cand.ToJSON())
		// One candidate per request, no sessionId in the body: as the sample.
		st, out := e.do(http.MethodPost, "/REST/v1/WebRTC/IceCandidates/"+c.sessionID,
			map[string]any{"candidates": []string{string(b)}})
		if st != http.StatusOK {
			e.t.Errorf("POST IceCandidates: %d %s", st, out)
		}
	})
	if err := pc.SetRemoteDescription(offer); err != nil {
		e.t.Fatalf("setRemoteDescription(offer): %v", err)
	}
	go c.pollCandidates()
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		e.t.Fatal(err)
	}
	ans, _ := json.Marshal(pc.LocalDescription())
	if st, out := e.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+c.sessionID, map[string]string{"answerSDP": string(ans)}); st != http.StatusOK {
		e.t.Fatalf("PATCH answer: %d %s", st, out)
	}
	// The sample opens its commands channel after the answer, without
	// renegotiating.
	proto := "videoos-commands"
	dc, err := pc.CreateDataChannel("commands", &webrtc.DataChannelInit{Protocol: &proto})
	if err != nil {
		e.t.Fatal(err)
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case c.cmdReplys <- string(m.Data):
		default:
		}
	})
	c.commands = dc
	return c
}

// createSession creates a session over REST with token and body and returns
// its id and offer.
func (e *testEnv) createSession(token string, body any) (string, webrtc.SessionDescription) {
	e.t.Helper()
	status, resp := e.doAs(token, http.MethodPost, "/REST/v1/WebRTC/Session", body)
	if status != http.StatusOK {
		e.t.Fatalf("POST Session: %d %s", status, resp)
	}
	var created struct {
		SessionID string `json:"sessionId"`
		OfferSDP  string `json:"offerSDP"`
	}
	if err := json.Unmarshal(resp, &created); err != nil {
		e.t.Fatalf("POST Session body: %v", err)
	}
	var offer webrtc.SessionDescription
	if err := json.Unmarshal([]byte(created.OfferSDP), &offer); err != nil {
		e.t.Fatalf("offerSDP is not a JSON session description: %v", err)
	}
	return created.SessionID, offer
}

// pollCandidates GETs the server's candidates every 20 ms while ICE is new
// or checking, adding each new one, as the sample does.
func (c *xprotectClient) pollCandidates() {
	seen := map[string]bool{}
	for {
		st := c.pc.ICEConnectionState()
		if st != webrtc.ICEConnectionStateNew && st != webrtc.ICEConnectionStateChecking {
			return
		}
		code, body := c.env.do(http.MethodGet, "/REST/v1/WebRTC/IceCandidates/"+c.sessionID, nil)
		if code != http.StatusOK {
			c.t.Errorf("GET IceCandidates: %d %s", code, body)
			return
		}
		var resp struct {
			Candidates []string `json:"candidates"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || resp.Candidates == nil {
			c.t.Errorf("GET IceCandidates body %s: %v", body, err)
			return
		}
		for _, s := range resp.Candidates {
			if seen[s] {
				continue
			}
			seen[s] = true
			var init webrtc.ICECandidateInit
			if err := json.Unmarshal([]byte(s), &init); err != nil {
				c.t.Errorf("server candidate %q is not JSON: %v", s, err)
				continue
			}
			_ = c.pc.AddICECandidate(init)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *xprotectClient) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	var a assembly
	ro := reorder{hold: c.hold}
	for {
		if c.hold > 0 {
			// Wake up now and then, so that a gap is given up even when
			// no packet follows it (the end of a playback).
			_ = tr.SetReadDeadline(time.Now().Add(c.hold / 4))
		}
		pkt, _, err := tr.ReadRTP()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
		case err != nil:
			return
		default:
			c.mu.Lock()
			c.seqs = append(c.seqs, pkt.SequenceNumber)
			c.mu.Unlock()
			ro.push(pkt)
		}
		for _, p := range ro.ready(time.Now()) {
			c.collect(&a, p)
		}
	}
}

// reorderHold is how long a client that sends NACKs waits for a missing
// packet before it goes on without it; the others go on at once.
const reorderHold = 500 * time.Millisecond

// reorder puts a track's packets back in sequence order, as a browser's
// jitter buffer does: a packet sent again after a NACK takes its place
// among the others; a gap still open after hold is given up, and a packet
// that comes after that is dropped.
type reorder struct {
	hold     time.Duration
	started  bool
	next     uint16 // the sequence number due next
	held     map[uint16]*rtp.Packet
	gapSince time.Time // when next was first missing
}

func (r *reorder) push(p *rtp.Packet) {
	if !r.started {
		r.started, r.next, r.held = true, p.SequenceNumber, map[uint16]*rtp.Packet{}
	}
	if int16(p.SequenceNumber-r.next) >= 0 {
		r.held[p.SequenceNumber] = p
	}
}

// ready returns the packets that are due, in order.
func (r *reorder) ready(now time.Time) []*rtp.Packet {
	var out []*rtp.Packet
	for len(r.held) > 0 {
		if p, ok := r.held[r.next]; ok {
			out = append(out, p)
			delete(r.held, r.next)
			r.next++
			r.gapSince = time.Time{}
			continue
		}
		if r.gapSince.IsZero() {
			r.gapSince = now
		}
		if now.Sub(r.gapSince) < r.hold {
			break
		}
		// Give the gap up: go on at the oldest packet held.
		oldest := uint16(0)
		first := true
		for s := range r.held {
			if first || int16(s-oldest) < 0 {
				oldest, first = s, false
			}
		}
		r.next, r.gapSince = oldest, time.Time{}
	}
	return out
}

// assembly is the frame being put together from its packets.
type assembly struct {
	depack    codecs.H264Packet
	annexb    []byte
	timestamp uint32
	pending   bool
}

func (c *xprotectClient) collect(a *assembly, pkt *rtp.Packet) {
	if a.pending && pkt.Timestamp != a.timestamp {
		// The frame before lost its last packet: it is lost.
		a.depack, a.annexb, a.pending = codecs.H264Packet{}, nil, false
	}
	a.timestamp, a.pending = pkt.Timestamp, true
	b, err := a.depack.Unmarshal(pkt.Payload)
	if err == nil {
		a.annexb = append(a.annexb, b...)
	}
	if !pkt.Marker {
		return
	}
	var au h264.AnnexB
	if err := au.Unmarshal(a.annexb); err == nil && len(au) > 0 {
		f := receivedFrame{nalus: au, timestamp: pkt.Timestamp, lastSeq: pkt.SequenceNumber, arrived: time.Now()}
		c.mu.Lock()
		if len(c.frames) == 0 || c.firstKey.IsZero() && f.isKey() {
			c.firstKey = f.arrived
		}
		c.frames = append(c.frames, f)
		c.mu.Unlock()
		select {
		case c.frameCh <- struct{}{}:
		default:
		}
	}
	// The frame keeps slices of this buffer: start a new one.
	a.annexb, a.pending = nil, false
}

// waitFrames waits until at least n frames arrived.
func (c *xprotectClient) waitFrames(n int, timeout time.Duration) []receivedFrame {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got := len(c.frames)
		c.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-c.frameCh:
		case <-deadline:
			c.t.Fatalf("received %d frames, want %d within %v (ICE %s)", got, n, timeout, c.pc.ICEConnectionState())
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]receivedFrame(nil), c.frames...)
}

func (c *xprotectClient) frameCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

func (c *xprotectClient) timeToFirstFrame() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstKey.Sub(c.posted)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}
