package main

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// viewer is one pion peer connection playing the camera. Its track goroutine
// decrypts (pion), depacketizes (pion's codecs.H264Packet) and assembles
// access units by the RTP marker bit; a frame counts only when none of its
// packets is missing.
type viewer struct {
	id        int
	sessionID string
	pc        *webrtc.PeerConnection
	posted    time.Time // the session request (POST …/Session or connect) was sent
	sock      *wsSocket // the WebSocket that signaled the session (--flow ws)

	firstKey chan struct{} // closed at the first complete keyframe
	// lost is closed when camgate says the session ended or failed (an
	// error notification on the WebSocket); lostErr says why.
	lost     chan struct{}
	lostOnce sync.Once
	lostErr  error
	ttff     time.Duration // posted → first complete keyframe
	// Phases of the first frame, each since posted (0: not reached).
	phases phaseTimes

	// Sequence accounting (RFC 3550 style): expected = highest extended
	// sequence number − first + 1; lost = expected − received in order −
	// late (out-of-order or retransmitted).
	base    atomic.Int64
	highest atomic.Int64
	inOrder atomic.Uint64
	late    atomic.Uint64

	mu     sync.Mutex
	frames []frameRec // complete frames since the last take
	last   uint64     // index of the newest stamped frame counted
	seen   bool       // last is set
}

// phaseTimes are the steps from the session request to the first frame.
type phaseTimes struct {
	Offer       time.Duration // the offer arrived (POST's answer, or the invite)
	Answered    time.Duration // the answer sent: the PATCH returned, or the invite's result written
	ICE         time.Duration // ICE connected
	Connected   time.Duration // DTLS up (peer connection connected)
	FirstPacket time.Duration // first RTP packet decrypted
}

// mark records a phase once.
func (v *viewer) mark(p *time.Duration) {
	d := time.Since(v.posted)
	v.mu.Lock()
	if *p == 0 {
		*p = d
	}
	v.mu.Unlock()
}

func (v *viewer) phaseTimes() phaseTimes {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.phases
}

// frameRec is one complete access unit as the viewer received it.
type frameRec struct {
	arrived time.Time // the packet with the marker bit
	index   uint64    // the camera's frame index (stamped frames)
	sent    int64     // the camera's send time, Unix ns (0: not stamped)
	key     bool
}

func newViewer(id int) *viewer {
	return &viewer{id: id, firstKey: make(chan struct{}), lost: make(chan struct{})}
}

// fail records that camgate ended the session; the first reason is kept.
func (v *viewer) fail(err error) {
	v.lostOnce.Do(func() {
		v.lostErr = err
		close(v.lost)
	})
}

// failure is why the session was lost (after lost is closed).
func (v *viewer) failure() error {
	<-v.lost
	return v.lostErr
}

// receive is the track's read loop; it ends when the peer connection closes.
func (v *viewer) receive(tr *webrtc.TrackRemote) {
	buf := make([]byte, 1600)
	var pkt rtp.Packet
	depack := codecs.H264Packet{IsAVC: true}
	var (
		started bool
		ext     int64 // extended highest sequence number
		broken  bool  // the current frame lost a packet or did not parse
		key     bool  // the current frame holds an IDR slice
		stamped bool
		index   uint64
		sent    int64
	)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			broken = true
			continue
		}
		if !started {
			v.mark(&v.phases.FirstPacket)
			started = true
			ext = int64(pkt.SequenceNumber)
			v.base.Store(ext)
		} else {
			d := int64(int16(pkt.SequenceNumber - uint16(ext)))
			if d <= 0 {
				// Late or retransmitted: its frame was judged already.
				v.late.Add(1)
				continue
			}
			if d > 1 {
				broken = true
				depack = codecs.H264Packet{IsAVC: true}
			}
			ext += d
		}
		v.highest.Store(ext)
		v.inOrder.Add(1)

		out, err := depack.Unmarshal(pkt.Payload)
		if err != nil {
			broken = true
		}
		// IsAVC output: NAL units, each after a 4-byte big-endian length.
		for len(out) >= 4 {
			size := int(binary.BigEndian.Uint32(out))
			if size > len(out)-4 || size == 0 {
				broken = true
				break
			}
			nalu := out[4 : 4+size]
			switch nalu[0] & 0x1f {
			case 5:
				key = true
			case 6:
				if i, t, ok := parseStamp(nalu); ok {
					stamped, index, sent = true, i, t
				}
			}
			out = out[4+size:]
		}
		if !pkt.Marker {
			continue
		}
		if !broken {
			v.complete(frameRec{arrived: time.Now(), index: index, sent: sent, key: key}, stamped)
		}
		broken, key, stamped, index, sent = false, false, false, 0, 0
	}
}

func (v *viewer) complete(f frameRec, stamped bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if stamped {
		// A keyframe request makes camgate replay its GOP: count each
		// camera frame once.
		if v.seen && f.index <= v.last {
			return
		}
		v.last, v.seen = f.index, true
	} else {
		f.sent = 0
	}
	if f.key && v.ttff == 0 {
		v.ttff = f.arrived.Sub(v.posted)
		close(v.firstKey)
	}
	if v.ttff == 0 {
		return // nothing decodes before the first keyframe
	}
	v.frames = append(v.frames, f)
}

// takeFrames returns the frames received since the last call.
func (v *viewer) takeFrames() []frameRec {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.frames
	v.frames = nil
	return f
}

// seqCounters is a snapshot of the viewer's packet accounting.
type seqCounters struct {
	expected int64
	received int64 // in order + late
}

func (v *viewer) counters() seqCounters {
	hi, base := v.highest.Load(), v.base.Load()
	c := seqCounters{received: int64(v.inOrder.Load() + v.late.Load())}
	if c.received > 0 {
		c.expected = hi - base + 1
	}
	return c
}

func (v *viewer) timeToFirstFrame() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.ttff
}
