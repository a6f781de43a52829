package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"golang.org/x/crypto/argon2"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

const (
	testCameraID = "6C0D9F0E-1111-4A2B-8C3D-0123456789AB"
	testStreamID = "6C0D9F0E-2222-4A2B-8C3D-0123456789AB"
)

// testEnv is a camgate gateway on loopback pulling from an in-process RTSP
// camera that loops the demo clip.
type testEnv struct {
	t        *testing.T
	camera   *demo.Server
	registry *cameras.Registry
	auth     *oauth.Service
	gw       *gateway.Gateway
	base     string // http://127.0.0.1:PORT/API
	// token is the access token of testUser; do sends it unless a test
	// sets an Authorization header of its own (doAs).
	token string
	// ptz has a controller per camera whose settings give it PTZ (none
	// unless a test's mutate adds some).
	ptz *ptz.Registry
	// store is the recording store in the settings' DataDir (a temporary
	// folder); recorders has a recorder per camera whose settings enable
	// recording (none unless a test's mutate does), as camgate builds them.
	store     *playback.Store
	recorders map[string]*playback.Recorder
}

// The harness's users: testUser may watch every camera; otherUser has a
// right on no camera at all.
const (
	testUser     = "operator"
	otherUser    = "stranger"
	testPassword = "correct horse battery staple"
)

type envOptions struct {
	// authNow is the identity service's clock (nil: the real one); tests
	// of token expiry set it in the past so tokens expire soon.
	authNow      func() time.Time
	inBandParams bool
	corrupt      func(int, [][]byte) [][]byte
	mutate       func(*appsettings.Settings)
	// fps paces the RTSP camera (0: the clip's 25 fps, an IDR every 4 s;
	// 100 gives an IDR every second).
	fps int
	// logs, when set, receives every component's log at debug level.
	logs io.Writer
	// listener, when set, wraps the gateway's listener (tests of slow
	// clients shrink the socket buffers of the connections it accepts).
	listener func(net.Listener) net.Listener
}

func loadClip(t testing.TB) *demo.Clip {
	t.Helper()
	clip, err := demo.LoadClip("../testdata/demo.h264")
	if err != nil {
		t.Fatalf("load demo clip: %v", err)
	}
	return clip
}

func testLogger(testing.TB) *slog.Logger {
	if os.Getenv("CAMGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newTestEnv(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	log := testLogger(t)
	if o.logs != nil {
		log = slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// StartOnFirstPlay: camgate, the camera's one reader, starts with the
	// clip's keyframe instead of joining mid-GOP and waiting up to 4 s
	// (the clip at 25 fps) for the next one, as camgate's demo camera does.
	cam := &demo.Server{Address: "127.0.0.1:0", Clip: loadClip(t), FPS: o.fps, InBandParameterSets: o.inBandParams, Corrupt: o.corrupt, StartOnFirstPlay: true, Logger: log}
	if err := cam.Start(); err != nil {
		t.Fatalf("start RTSP camera: %v", err)
	}
	s := appsettings.Defaults()
	s.Http.Listen = "127.0.0.1:0"
	s.WebRTC.UdpPort = 0
	s.WebRTC.MDNS = "disabled"
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.DataDir = t.TempDir()
	s.Cameras = []appsettings.Camera{{
		Id: testCameraID, Name: "Test camera", Transport: "tcp",
		Streams: []appsettings.Stream{{Id: testStreamID, Url: cam.URL(), Default: true}},
	}}
	hash := testPasswordHash(t)
	s.Auth.Roles = []appsettings.Role{{Name: "viewer", Live: []string{"*"}}, {Name: "nothing"}}
	s.Auth.Users = []appsettings.User{
		{Username: testUser, PasswordHash: hash, Roles: []string{"viewer"}},
		{Username: otherUser, PasswordHash: hash, Roles: []string{"nothing"}},
	}
	if o.mutate != nil {
		o.mutate(&s)
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("settings: %v", err)
	}
	ln, err := net.Listen("tcp", s.Http.Listen)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/API"
	auth, err := oauth.New(context.Background(), oauth.Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: base + "/IDP", Log: log, FailureDelay: -1, Now: o.authNow})
	if err != nil {
		t.Fatalf("oauth: %v", err)
	}
	reg := cameras.NewRegistry(s.Cameras, log)
	stopCameras := testutil.Run(t, reg.Run, reg.Started)
	ptzReg := newPTZRegistry(t, s, log)
	store, err := playback.NewStore(context.Background(), playback.OptionsFromSettings(s, log))
	if err != nil {
		t.Fatalf("recording store: %v", err)
	}
	recorders := map[string]*playback.Recorder{}
	for _, c := range reg.Cameras() {
		if rec, ok := s.CameraRecording(c.ID); ok && rec.Enabled {
			r, err := store.NewRecorder(c.DefaultStream().Hub)
			if err == nil {
				err = r.Start()
			}
			if err != nil {
				t.Fatalf("recorder of %s: %v", c.ID, err)
			}
			recorders[strings.ToLower(c.ID)] = r
		}
	}
	gw, err := gateway.New(gateway.Options{Settings: s, Cameras: reg, Auth: auth, PTZ: ptzReg, Store: store, Log: log})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	if o.listener != nil {
		ln = o.listener(ln)
	}
	gw.Serve(ln)
	apiCheck.watch(t, ln.Addr().String())
	env := &testEnv{t: t, camera: cam, registry: reg, auth: auth, gw: gw, ptz: ptzReg, store: store, recorders: recorders, base: base}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Close(ctx)
		for _, r := range recorders {
			r.Close()
		}
		store.Close()
		_ = ptzReg.Close()
		stopCameras()
		auth.Close()
		cam.Close()
	})
	env.token = env.signIn(testUser, testPassword)
	return env
}

// testPasswordHash is testPassword hashed with a cheap argon2id (256 KiB,
// one pass, a fixed salt), in the PHC form Auth.Users[].PasswordHash takes.
// HashPassword's own parameters (19 MiB, two passes) cost half a second of
// CPU per sign-in under the race detector, and every test signs in; they
// are tested in package oauth.
func testPasswordHash(testing.TB) string {
	salt := []byte("camgate-test-salt")
	key := argon2.IDKey([]byte(testPassword), salt, 1, 256, 1, 32)
	return "$argon2id$v=19$m=256,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
}

// signIn gets an access token from the gateway's token endpoint, as the
// XProtect sample does (client VmsClient: a browser, docs/clients.md).
//
//nolint:unparam // password: each call names the credentials it signs in with
func (e *testEnv) signIn(user, password string) string {
	e.t.Helper()
	return e.signInAs(user, password, oauth.ClientVms)
}

// signInAs signs in with the password grant as the given OAuth client.
func (e *testEnv) signInAs(user, password, client string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {client}}
	resp, err := http.PostForm(e.base+"/IDP/connect/token", form)
	if err != nil {
		e.t.Fatalf("token endpoint: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		e.t.Fatalf("sign in as %s: status %d, err %v", user, resp.StatusCode, err)
	}
	return tok.AccessToken
}

// waitStreaming waits until the camera's hub has a keyframe cached, so that
// a viewer's first frame does not depend on the camera's next IDR.
func (e *testEnv) waitStreaming() {
	e.t.Helper()
	cam, _ := e.registry.Camera(testCameraID)
	deadline := time.Now().Add(15 * time.Second)
	for cam.DefaultStream().Hub.Stats().GOPFrames == 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("camera never streamed: %+v", cam.DefaultStream().Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends a JSON request with the test user's token and returns the status
// and body.
func (e *testEnv) do(method, path string, body any) (int, []byte) {
	e.t.Helper()
	return e.doAs(e.token, method, path, body)
}

// doAs sends a JSON request with the given bearer token ("" sends none).
func (e *testEnv) doAs(token, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

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
