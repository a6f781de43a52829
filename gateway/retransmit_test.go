package gateway_test

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// lossyConn is a viewer's UDP socket that loses every nth video packet
// once, before SRTP: the network losing it, not the client ignoring it
// (a packet that arrived once would be dropped as an SRTP replay).
type lossyConn struct {
	net.PacketConn
	every int

	mu      sync.Mutex
	seen    int
	dropped map[uint16]bool
}

func (l *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := l.PacketConn.ReadFrom(b)
		if err != nil || !l.lose(b[:n]) {
			return n, addr, err
		}
	}
}

// lose picks the packets to lose: RTP (version 2) of payload type 96, not
// RTCP, STUN or DTLS; each sequence number at most once, so the
// retransmission gets through.
func (l *lossyConn) lose(b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 || b[1]&0x7f != 96 {
		return false
	}
	seq := binary.BigEndian.Uint16(b[2:4])
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped[seq] {
		return false
	}
	l.seen++
	if l.seen%l.every != 0 {
		return false
	}
	l.dropped[seq] = true
	return true
}

func (l *lossyConn) lost() map[uint16]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[uint16]bool, len(l.dropped))
	for s := range l.dropped {
		out[s] = true
	}
	return out
}

// lossyClientAPI is a viewer like clientAPI, with pion's default
// interceptors (its NACK generator asks for lost packets, as a browser
// does), a browser's SRTP replay window and media on a lossy socket.
func lossyClientAPI(t *testing.T, every int) (*webrtc.API, *lossyConn) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := &lossyConn{PacketConn: udp, every: every, dropped: map[uint16]bool{}}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	t.Cleanup(func() { _ = mux.Close() })
	se := loopbackClientSettings()
	se.SetICEUDPMux(mux)
	// A browser's SRTP replay window (libwebrtc: 1024 packets), not
	// pion's 64: a resend that comes back after 64 newer packets (a tenth
	// of a second of the catch-up on a busy machine) would be dropped as a
	// replay, NACKed again and again, and use up the resend budget.
	se.SetSRTPReplayProtectionWindow(1024)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), conn
}

// A viewer that loses packets asks for them with NACKs, and camgate sends
// each again from its own history (pion's NACK responder is not used):
// every lost sequence number arrives later, and the metrics count the
// resends.
func TestLostPacketsAreSentAgain(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitStreaming()
	api, conn := lossyClientAPI(t, 25)
	c := env.playWith(api, liveBody)
	c.waitFrames(100, 30*time.Second) // the 4 s GOP's catch-up, then live frames

	lost := conn.lost()
	if len(lost) < 10 {
		t.Fatalf("only %d packets were lost on the way; the test needs more", len(lost))
	}
	// Give the last NACKs time to be answered, then every lost packet but
	// those lost in the last moments must have arrived after all.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		arrived := map[uint16]bool{}
		var newest uint16
		for _, s := range c.seqs {
			arrived[s] = true
			if int16(s-newest) > 0 || newest == 0 {
				newest = s
			}
		}
		c.mu.Unlock()
		var missing []uint16
		for s := range lost {
			// Packets lost within the last 100 sent may still be on their
			// way back.
			if !arrived[s] && int16(newest-s) > 100 {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			f := env.scrape()
			t.Fatalf("%d of %d lost packets never arrived again: %v (NACKed %v, resent %v, expired %v, over budget %v)", len(missing), len(lost), missing,
				f.value(t, "camgate_session_nack_packets_total", map[string]string{"kind": "live_rest"}),
				f.value(t, "camgate_session_retransmitted_packets_total", map[string]string{"kind": "live_rest"}),
				f.value(t, "camgate_session_retransmissions_skipped_total", map[string]string{"kind": "live_rest", "reason": "expired"}),
				f.value(t, "camgate_session_retransmissions_skipped_total", map[string]string{"kind": "live_rest", "reason": "budget"}))
		}
		time.Sleep(100 * time.Millisecond)
	}

	f := env.scrape()
	resent := f.value(t, "camgate_session_retransmitted_packets_total", map[string]string{"kind": "live_rest"})
	if resent < float64(len(lost))/2 {
		t.Fatalf("camgate_session_retransmitted_packets_total = %v, with %d packets lost", resent, len(lost))
	}
	t.Logf("%d packets lost, %v sent again", len(lost), resent)
}
