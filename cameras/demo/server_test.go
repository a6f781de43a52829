package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
)

// testFPS makes a 10-frame clip loop every 100 ms, so a test sees several
// loop boundaries (and IDRs) in well under a second.
const (
	testFPS    = 100
	testFrames = 10
	ptsStep    = clockRate / testFPS
)

// TestStreamLoopsSeamlessly plays the server over each transport, with and
// without in-band parameter sets, across two loop boundaries, and checks
// that timestamps advance by exactly one frame each time and that the
// frames are the clip's, in order, with SPS/PPS where the mode says.
func TestStreamLoopsSeamlessly(t *testing.T) {
	t.Parallel()
	for _, tr := range []struct {
		name      string
		transport *gortsplib.Transport
	}{{"tcp", tcp}, {"udp", udp}} {
		for _, inBand := range []bool{true, false} {
			name := tr.name + "/sdp-only-params"
			if inBand {
				name = tr.name + "/in-band-params"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				clip := smallClip(t, testFrames)
				s := startServer(t, &Server{Clip: clip, FPS: testFPS, InBandParameterSets: inBand})
				r := mustDial(t, s.URL(), tr.transport)

				// The SDP always carries the parameter sets.
				if !bytes.Equal(r.forma.SPS, clip.SPS()) || !bytes.Equal(r.forma.PPS, clip.PPS()) {
					t.Fatal("SDP sprop-parameter-sets differ from the clip's SPS/PPS")
				}
				if r.forma.PacketizationMode != 1 {
					t.Errorf("packetization-mode = %d, want 1", r.forma.PacketizationMode)
				}

				// Start at the IDR (clip frame 0) and read 2.5 loops.
				prev := r.nextIDR(t)
				checkFrame(t, clip, 0, prev.au, inBand)
				for k := 1; k <= 25; k++ {
					f := r.next(t)
					if f.pts-prev.pts != ptsStep {
						t.Fatalf("frame %d: PTS step %d, want %d (loop boundary must be seamless)", k, f.pts-prev.pts, ptsStep)
					}
					checkFrame(t, clip, k%testFrames, f.au, inBand)
					prev = f
				}
			})
		}
	}
}

// checkFrame asserts that au is clip frame i with the parameter-set policy.
func checkFrame(t *testing.T, clip *Clip, i int, au [][]byte, inBand bool) {
	t.Helper()
	if !bytes.Equal(slice(au), slice(clip.AccessUnit(i))) {
		t.Fatalf("received slice is not clip frame %d", i)
	}
	sps, pps := hasParams(au)
	switch {
	case !inBand && (sps || pps):
		t.Fatalf("frame %d: SPS/PPS in-band although InBandParameterSets is false", i)
	case inBand && clip.IsIDR(i) && (!sps || !pps):
		t.Fatalf("frame %d: IDR without in-band SPS/PPS", i)
	}
}

func TestURLAndDefaults(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, 2)})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Errorf("Addr = %q, want loopback with a real port", s.Addr())
	}
	if want := "rtsp://" + s.Addr() + "/demo"; s.URL() != want {
		t.Errorf("URL = %q, want %q", s.URL(), want)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start on a running server succeeded")
	}

	withCreds := &Server{Address: "127.0.0.1:8554", Path: "/cam/1/", Username: "u@x", Password: "p:w"}
	if got, want := withCreds.URL(), "rtsp://u%40x:p%3Aw@127.0.0.1:8554/cam/1"; got != want {
		t.Errorf("URL with credentials = %q, want %q", got, want)
	}
	if got := (&Server{Address: ":8554"}).URL(); got != "rtsp://127.0.0.1:8554/demo" {
		t.Errorf("URL for an unspecified host = %q", got)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Parallel()
	clip := smallClip(t, 2)
	for name, s := range map[string]*Server{
		"no clip":              {},
		"negative fps":         {Clip: clip, FPS: -1},
		"fps too high":         {Clip: clip, FPS: MaxFPS + 1},
		"zero Clip":            {Clip: &Clip{}},
		"password, no user":    {Clip: clip, Password: "x"},
		"unparseable address":  {Clip: clip, Address: "not an address"},
		"address not on local": {Clip: clip, Address: "192.0.2.1:0"},
	} {
		t.Run(name, func(t *testing.T) {
			s.Logger = quietLogger()
			if err := s.Start(); err == nil {
				s.Close()
				t.Fatal("Start succeeded")
			}
			s.Close() // harmless on a server that did not start
		})
	}
}

func TestWrongPathIsNotFound(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, 2), Path: "cam1"})
	_, err := dial(strings.TrimSuffix(s.URL(), "cam1")+"other", tcp)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("play of a wrong path: err = %v, want 404", err)
	}
}

// TestRestartOnSamePort simulates a camera flap: Close, then Start again
// (the same Server and a new one on the same address), and play each time.
func TestRestartOnSamePort(t *testing.T) {
	t.Parallel()
	clip := smallClip(t, testFrames)
	s := startServer(t, &Server{Clip: clip, FPS: testFPS})
	url := s.URL()
	mustDial(t, url, tcp).nextIDR(t)

	s.Close()
	if _, err := dial(url, tcp); err == nil {
		t.Fatal("play succeeded while the camera is closed")
	}

	if err := s.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if s.URL() != url {
		t.Fatalf("URL after restart = %q, want %q", s.URL(), url)
	}
	mustDial(t, url, udp).nextIDR(t)
	if st := s.Stats(); st.Plays != 1 {
		t.Errorf("Plays after restart = %d, want 1 (counters restart)", st.Plays)
	}
	s.Close()

	s2 := startServer(t, &Server{Address: s.Addr(), Clip: clip, FPS: testFPS})
	if s2.URL() != url {
		t.Fatalf("new server URL = %q, want %q", s2.URL(), url)
	}
	mustDial(t, url, nil).nextIDR(t)
}

func TestTCPOnlyFallsBackFromUDP(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, testFrames), FPS: testFPS, TCPOnly: true})
	if _, err := dial(s.URL(), udp); err == nil {
		t.Fatal("UDP play succeeded on a TCP-only server")
	}
	// gortsplib's automatic transport asks for UDP, gets 461, uses TCP.
	mustDial(t, s.URL(), nil).nextIDR(t)
}

func TestStats(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, testFrames), FPS: testFPS})
	r := mustDial(t, s.URL(), tcp)
	r.nextIDR(t)
	r.nextIDR(t)

	st := s.Stats()
	if st.Plays != 1 || st.Sessions != 1 || st.Loops < 1 || st.FramesSent < testFrames {
		t.Errorf("Stats = %+v, want 1 play, 1 session, a loop, %d+ frames", st, testFrames)
	}
	r.client.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Sessions != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Sessions = %d after the client left, want 0", s.Stats().Sessions)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCloseWithReaderConnected: Close returns promptly with a reader
// attached, and the reader sees the end of the stream.
func TestCloseWithReaderConnected(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, testFrames), FPS: testFPS})
	r := mustDial(t, s.URL(), tcp)
	r.nextIDR(t)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a reader connected")
	}
	if err := r.client.Wait(); err == nil {
		t.Error("client still playing after the server closed")
	}
}

// With StartOnFirstPlay the first reader's first frame is the clip's first
// IDR, however long after Start it connects.
func TestStartOnFirstPlayBeginsWithTheFirstIDR(t *testing.T) {
	t.Parallel()
	clip := loadDemo(t)
	srv := startServer(t, &Server{Clip: clip, StartOnFirstPlay: true, InBandParameterSets: true})
	time.Sleep(300 * time.Millisecond) // a running loop would be 7 frames in by now
	if n := srv.Stats().FramesSent; n != 0 {
		t.Fatalf("frames sent before any PLAY = %d, want 0", n)
	}
	r := mustDial(t, srv.URL(), nil)
	f := r.next(t)
	if !clip.IsIDR(0) || !equalAU(f.au, clip.AccessUnit(0)) {
		t.Fatal("first frame after PLAY is not the clip's first IDR")
	}
}
