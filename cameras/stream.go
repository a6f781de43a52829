package cameras

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// GOP cache bounds. A camera with a very long keyframe interval (or none)
// would otherwise grow the cache without limit; past these bounds new viewers
// wait for the next keyframe instead.
const (
	maxGOPFrames = 1024
	maxGOPBytes  = 32 << 20
)

// Stream is the hub of one camera stream: the source publishes access units
// into it, it builds each into a Frame once (FrameBuilder), keeps the current
// GOP, and fans frames out to its readers without ever waiting for one.
type Stream struct {
	CameraID string
	StreamID string

	mu       sync.RWMutex
	readers  map[*Reader]struct{}
	gop      []*Frame
	gopBytes int
	gopValid bool // gop holds the current GOP from its keyframe
	keyed    bool // the epoch has had a keyframe: its frames are decodable
	epoch    uint64
	build    *FrameBuilder
	// Decode times of the epoch (decodeTime) and B-frame detection.
	dtsx      dtsExtractor
	lastDTS   int64
	haveDTS   bool
	lastPTS   int64 // of the previous frame of the epoch
	reordered bool  // the epoch's PTS went backwards within a GOP
	hooks     streamHooks
	// ended is the last epoch whose run failed (Interrupt): its frames
	// are stale for live viewers.
	ended atomic.Uint64

	framesIn  atomic.Uint64
	bytesIn   atomic.Uint64
	keyframes atomic.Uint64
}

// streamHooks are how the hub tells its supervisor what it sees in the
// frames. They run on the ingest goroutine after the hub's lock is released
// and must return at once.
type streamHooks struct {
	// reordered is called once per epoch, at the first frame whose PTS
	// goes backwards within a GOP: the camera sends B-frames.
	reordered func()
	// badTimestamps is called for a frame whose decode time cannot be
	// derived from its slices; the frame is timed by its PTS instead.
	badTimestamps func(error)
}

// dtsExtractor derives a frame's decode time from its PTS and the picture
// order in its slices: mediacommon's h264.DTSExtractor and
// h265.DTSExtractor.
type dtsExtractor interface {
	Extract(au [][]byte, pts int64) (int64, error)
}

func newDTSExtractor(c Codec) dtsExtractor {
	if c == CodecH265 {
		x := &h265.DTSExtractor{}
		x.Initialize()
		return x
	}
	x := &h264.DTSExtractor{}
	x.Initialize()
	return x
}

// maxReorder bounds how far back a frame's PTS may go, compared with the
// frame before it, to count as B-frame reordering: encoders reorder a few
// frames (well under a second), while a camera whose clock jumps back
// (a restart of its RTP timestamps) jumps further.
const maxReorder = 90000 // 1 s in 90 kHz ticks

// NewStream returns an empty hub. Sources feed it with BeginEpoch and
// WriteAU; viewers attach with AddReader.
func NewStream(cameraID, streamID string) *Stream {
	s := &Stream{
		CameraID: cameraID,
		StreamID: streamID,
		readers:  map[*Reader]struct{}{},
		build:    NewFrameBuilder(nil, nil),
		dtsx:     newDTSExtractor(CodecH264),
	}
	return s
}

// BeginEpoch starts a new run of an H.264 source (a connect or reconnect)
// with the parameter sets announced out of band (the SDP), which may be
// nil. Frames up to the first IDR of the run are dropped because nobody
// could decode them.
func (s *Stream) BeginEpoch(sps, pps []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.build.Reset(sps, pps)
	s.beginEpoch()
}

// BeginEpochH265 is BeginEpoch for an H.265 source, with its VPS, SPS and
// PPS from the SDP (any may be nil). Frames up to the first IDR or CRA are
// dropped.
func (s *Stream) BeginEpochH265(vps, sps, pps []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.build.ResetH265(vps, sps, pps)
	s.beginEpoch()
}

// beginEpoch resets what the hub knows of the run; with s.mu held.
func (s *Stream) beginEpoch() {
	s.epoch++
	s.dtsx = newDTSExtractor(s.build.Codec())
	s.haveDTS, s.reordered = false, false
	s.gop = nil
	s.gopBytes = 0
	s.gopValid = false
	s.keyed = false
}

// Interrupt ends the source's run at a failure. The cached GOP is dropped
// at once, so that a viewer who joins or asks for a keyframe while the
// camera is away gets nothing rather than the picture from before the
// failure, and the frames of the run still queued for readers become
// stale (Stale): live viewers skip them. The recorder keeps them, as they
// are true recordings. Frames come again after the next BeginEpoch.
func (s *Stream) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gop = nil
	s.gopBytes = 0
	s.gopValid = false
	s.keyed = false
	s.ended.Store(s.epoch)
}

// Codec returns the codec of the stream's current (or last) run: what
// viewers joining now will get.
func (s *Stream) Codec() Codec {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.build.Codec()
}

// Stale reports whether f comes from a run of the source that has failed
// since (Interrupt): it must not be shown as live. It takes no lock.
func (s *Stream) Stale(f *Frame) bool { return f.Epoch <= s.ended.Load() }

// WriteAU publishes one access unit with its 90 kHz PTS, in the order the
// camera sent it (decode order). Only the source's ingest goroutine calls
// it.
func (s *Stream) WriteAU(pts int64, au [][]byte) {
	s.mu.Lock()
	f := s.build.Build(au)
	if f == nil || (!f.Key && !s.keyed) {
		// Nothing decodable yet in this epoch (no IDR, or no SPS/PPS).
		s.mu.Unlock()
		return
	}
	f.Epoch, f.PTS, f.Arrived = s.epoch, pts, time.Now()
	// B-frames: a frame presented before the one decoded before it. Only
	// within a GOP (a keyframe may start a new timeline) and by less than
	// maxReorder (a bigger step back is the camera's clock jumping).
	newlyReordered := false
	if s.haveDTS && !f.Key && pts < s.lastPTS && s.lastPTS-pts <= maxReorder && !s.reordered {
		s.reordered, newlyReordered = true, true
	}
	s.lastPTS = pts
	var dtsErr error
	f.DTS, dtsErr = s.decodeTime(f)
	if f.Key {
		s.gop = append(s.gop[:0:0], f)
		s.gopBytes = f.Size
		s.gopValid, s.keyed = true, true
		s.keyframes.Add(1)
	} else if s.gopValid {
		if len(s.gop) < maxGOPFrames && s.gopBytes+f.Size <= maxGOPBytes {
			s.gop = append(s.gop, f)
			s.gopBytes += f.Size
		} else {
			// Readers attached keep getting the GOP's frames; only a new
			// one waits for the next keyframe.
			s.gop = nil
			s.gopBytes = 0
			s.gopValid = false
		}
	}
	s.framesIn.Add(1)
	s.bytesIn.Add(uint64(f.Size))
	// The fan-out stays under the same lock as the GOP update so AddReader
	// cannot slip in between and miss or repeat this frame. Pushing never
	// blocks, so the lock is held only for a few queue appends.
	for r := range s.readers {
		r.push(Item{Frame: f})
	}
	hooks := s.hooks
	s.mu.Unlock()
	if dtsErr != nil && hooks.badTimestamps != nil {
		hooks.badTimestamps(dtsErr)
	}
	if newlyReordered && hooks.reordered != nil {
		hooks.reordered()
	}
}

// setHooks sets what the hub tells its supervisor; before the source runs.
func (s *Stream) setHooks(h streamHooks) {
	s.mu.Lock()
	s.hooks = h
	s.mu.Unlock()
}

// decodeTime returns the decode time of a frame of the epoch, derived from
// its PTS and the picture order of its slices (mediacommon's DTS
// extractor), and above the previous frame's, so that a frame's DTS
// always increases (unless the camera's clock jumps back by more than
// maxReorder: that jump is passed on, as it is in PTS, for the
// senders and the recorder to start over). A frame whose decode time cannot be derived (slices
// that do not parse) is timed by its PTS, and the extractor starts over at
// the next keyframe; the error is returned for the counters.
func (s *Stream) decodeTime(f *Frame) (int64, error) {
	dts, err := s.dtsx.Extract(f.AU, f.PTS)
	if err != nil {
		s.dtsx = newDTSExtractor(f.Codec)
		dts = f.PTS
	}
	if s.haveDTS && dts <= s.lastDTS && s.lastDTS-dts <= maxReorder {
		dts = s.lastDTS + 1
	}
	s.lastDTS, s.haveDTS = dts, true
	return dts, err
}

// AddReader attaches a consumer with a queue of queueFrames frames. The queue
// starts with the cached GOP (as catch-up items) so the first frame a new
// viewer decodes is the latest keyframe, not the camera's next one.
func (s *Stream) AddReader(queueFrames int) *Reader {
	r := newReader(s, queueFrames)
	s.mu.Lock()
	defer s.mu.Unlock()
	r.replaceWith(s.gopSnapshot())
	s.readers[r] = struct{}{}
	return r
}

func (s *Stream) gopSnapshot() []*Frame {
	if !s.gopValid {
		return nil
	}
	return s.gop
}

// replay re-queues the cached GOP for one reader.
func (s *Stream) replay(r *Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.readers[r]; ok {
		r.replaceWith(s.gopSnapshot())
	}
}

func (s *Stream) removeReader(r *Reader) {
	s.mu.Lock()
	delete(s.readers, r)
	s.mu.Unlock()
}

// StreamStats are counters of one stream since camgate started.
type StreamStats struct {
	FramesIn  uint64
	BytesIn   uint64
	Keyframes uint64
	Readers   int
	GOPFrames int
	Epoch     uint64
}

// Stats returns the stream's counters.
func (s *Stream) Stats() StreamStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return StreamStats{
		FramesIn:  s.framesIn.Load(),
		BytesIn:   s.bytesIn.Load(),
		Keyframes: s.keyframes.Load(),
		Readers:   len(s.readers),
		GOPFrames: len(s.gop),
		Epoch:     s.epoch,
	}
}
