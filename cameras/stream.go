package cameras

import (
	"sync"
	"sync/atomic"
	"time"
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
	// ended is the last epoch whose run failed (Interrupt): its frames
	// are stale for live viewers.
	ended atomic.Uint64

	framesIn  atomic.Uint64
	bytesIn   atomic.Uint64
	keyframes atomic.Uint64
}

// NewStream returns an empty hub. Sources feed it with BeginEpoch and
// WriteAU; viewers attach with AddReader.
func NewStream(cameraID, streamID string) *Stream {
	return &Stream{
		CameraID: cameraID,
		StreamID: streamID,
		readers:  map[*Reader]struct{}{},
		build:    NewFrameBuilder(nil, nil),
	}
}

// BeginEpoch starts a new run of the source (a connect or reconnect) with the
// parameter sets announced out of band (the SDP), which may be nil. Frames up
// to the first IDR of the run are dropped because nobody could decode them.
func (s *Stream) BeginEpoch(sps, pps []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	s.build.Reset(sps, pps)
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

// Stale reports whether f comes from a run of the source that has failed
// since (Interrupt): it must not be shown as live. It takes no lock.
func (s *Stream) Stale(f *Frame) bool { return f.Epoch <= s.ended.Load() }

// WriteAU publishes one access unit with its 90 kHz PTS. Only the source's
// ingest goroutine calls it.
func (s *Stream) WriteAU(pts int64, au [][]byte) {
	s.mu.Lock()
	f := s.build.Build(au)
	if f == nil || (!f.Key && !s.keyed) {
		// Nothing decodable yet in this epoch (no IDR, or no SPS/PPS).
		s.mu.Unlock()
		return
	}
	f.Epoch, f.PTS, f.Arrived = s.epoch, pts, time.Now()
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
	s.mu.Unlock()
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
