package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/camgate/camgate/cameras/demo"
)

// The camera stamps every access unit with an SEI NAL unit (type 6,
// user_data_unregistered) that carries the frame's index and the wall-clock
// time at which the camera sent it. camgate passes SEI through untouched,
// so a viewer can tell which camera frame it got and how long it took. The
// numbers are written as hex text: no zero bytes, so no emulation
// prevention is needed and browsers ignore the unit.
const stampUUID = "camgate-bench-v1" // 16 bytes, the SEI's uuid_iso_iec_11578

const (
	seiUserDataUnregistered = 5
	stampPayloadSize        = 16 + 16 + 16 // uuid, index, unix nanoseconds
	stampNALUSize           = 3 + stampPayloadSize + 1
)

// makeStamp returns the SEI NAL unit for frame index at time t.
func makeStamp(index uint64, t time.Time) []byte {
	b := make([]byte, 0, stampNALUSize)
	b = append(b, 0x06, seiUserDataUnregistered, stampPayloadSize)
	b = append(b, stampUUID...)
	b = fmt.Appendf(b, "%016x%016x", index, uint64(t.UnixNano()))
	return append(b, 0x80) // rbsp_trailing_bits
}

// parseStamp reads a NAL unit made by makeStamp.
func parseStamp(nalu []byte) (index uint64, sent int64, ok bool) {
	if len(nalu) < stampNALUSize || nalu[0]&0x1f != 6 || nalu[1] != seiUserDataUnregistered ||
		nalu[2] != stampPayloadSize || string(nalu[3:19]) != stampUUID {
		return 0, 0, false
	}
	i, err1 := strconv.ParseUint(string(nalu[19:35]), 16, 64)
	t, err2 := strconv.ParseUint(string(nalu[35:51]), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return i, int64(t), true
}

// benchCamera is an in-process RTSP camera (cameras/demo) that loops a clip
// and stamps each frame. It counts what it sent, so frames received by the
// viewers can be compared with frames the camera really sent (a busy
// machine may make the camera itself fall behind its nominal rate).
type benchCamera struct {
	srv *demo.Server

	mu     sync.Mutex
	sent   uint64  // frames stamped so far; the next frame's index
	sentAt []int64 // send time of each frame, Unix ns, by index
}

func startCamera(clipPath, listen string, fps int, log *slog.Logger) (*benchCamera, error) {
	clip, err := demo.LoadClip(clipPath)
	if err != nil {
		return nil, err
	}
	c := &benchCamera{}
	c.srv = &demo.Server{
		Address: listen,
		Path:    "bench",
		Clip:    clip,
		FPS:     fps,
		// Parameter sets only in the SDP, as many cameras do: camgate puts
		// them in front of every IDR itself.
		InBandParameterSets: false,
		// camgate is the only reader: start the loop at an IDR when it
		// plays, so its GOP cache is filled from the first second.
		StartOnFirstPlay: true,
		Corrupt:          c.stamp,
		Logger:           log,
	}
	if err := c.srv.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// stamp is the demo server's per-frame hook: it puts the SEI in front of
// the frame's NAL units (an SEI must precede the slice).
func (c *benchCamera) stamp(_ int, au [][]byte) [][]byte {
	now := time.Now()
	c.mu.Lock()
	i := c.sent
	c.sent++
	c.sentAt = append(c.sentAt, now.UnixNano())
	c.mu.Unlock()
	out := make([][]byte, 0, len(au)+1)
	out = append(out, makeStamp(i, now))
	return append(out, au...)
}

// framesSentBetween counts the frames sent in [from, to) (Unix ns).
func (c *benchCamera) framesSentBetween(from, to int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint64(0)
	for _, t := range c.sentAt {
		if t >= from && t < to {
			n++
		}
	}
	return n
}

func (c *benchCamera) url() string { return c.srv.URL() }

func (c *benchCamera) fps() int {
	if c.srv.FPS != 0 {
		return c.srv.FPS
	}
	return c.srv.Clip.FPS()
}

// bitrate is the clip's average bitrate in bit/s at the camera's frame rate.
func (c *benchCamera) bitrate() float64 {
	clip := c.srv.Clip
	n := clip.Len()
	size := 0
	for i := range n {
		for _, nalu := range clip.AccessUnit(i) {
			size += len(nalu)
		}
	}
	return float64(size) * 8 * float64(c.fps()) / float64(n)
}

// gop is the clip's keyframe interval in frames (the largest distance
// between two IDRs, the loop included).
func (c *benchCamera) gop() int {
	clip := c.srv.Clip
	n := clip.Len()
	longest, last := 0, -1
	for i := range 2 * n {
		if clip.IsIDR(i % n) {
			if last >= 0 && i-last > longest {
				longest = i - last
			}
			last = i
		}
	}
	return longest
}

func (c *benchCamera) close() { c.srv.Close() }
