package cameras

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrReaderClosed is returned by Reader.Next after the reader was removed.
var ErrReaderClosed = errors.New("cameras: reader closed")

// Item is one entry of a reader's queue.
type Item struct {
	Frame *Frame
	// CatchUp marks frames replayed from the GOP cache so a new viewer (or
	// one that asked for a keyframe) can decode at once. A sender sends them
	// faster than real time so that the viewer reaches the live edge quickly.
	CatchUp bool
	// AfterDrop marks the first frame queued after the reader dropped
	// frames because its queue was full (a keyframe, see Reader): the
	// recorder ends its run there, so no recording spans the hole.
	AfterDrop bool
}

// Reader is one consumer of a Stream (a viewer or the recorder). The stream's
// ingest goroutine pushes into a bounded ring and never waits: when the ring
// is full the reader drops frames until the next keyframe, counts them, and
// marks that keyframe (Item.AfterDrop).
type Reader struct {
	stream *Stream

	mu       sync.Mutex
	ring     []Item
	head     int
	count    int
	waitKey  bool // skip frames until a keyframe (start, overflow)
	dropping bool // waitKey was caused by an overflow: skipped frames count as drops
	closed   bool
	notify   chan struct{}
	dropped  atomic.Uint64
	overflow atomic.Uint64
}

func newReader(s *Stream, size int) *Reader {
	if size < 2 {
		size = 2
	}
	return &Reader{stream: s, ring: make([]Item, size), notify: make(chan struct{}, 1)}
}

// push appends an item without blocking, or drops it: when the reader is
// closed, waits for a keyframe, or its queue is full (what an overflow drops
// is counted in Dropped). Called with the stream's lock held (read or write).
func (r *Reader) push(it Item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.waitKey && !it.Frame.Key {
		if r.dropping {
			r.dropped.Add(1)
		}
		return
	}
	if r.count == len(r.ring) {
		// The viewer is too slow. Frames already queued form a decodable
		// chain; later ones would not without this one, so drop from here
		// to the next keyframe that fits.
		r.waitKey, r.dropping = true, true
		r.overflow.Add(1)
		r.dropped.Add(1)
		return
	}
	it.AfterDrop = r.dropping
	r.waitKey, r.dropping = false, false
	r.ring[(r.head+r.count)%len(r.ring)] = it
	r.count++
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// replaceWith empties the queue and fills it with the given frames as
// catch-up items. Called with the stream's lock held.
func (r *Reader) replaceWith(gop []*Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if need := len(gop) + len(r.ring)/4; need > len(r.ring) {
		// A long GOP (a camera with a keyframe every 10 s, say) must fit
		// with room for the live frames that arrive while it is replayed:
		// cut short, the viewer would freeze until the next keyframe. The
		// GOP cache bounds it (maxGOPFrames).
		r.ring = make([]Item, need)
	} else {
		for i := range r.ring {
			r.ring[i] = Item{}
		}
	}
	r.head, r.count = 0, 0
	r.waitKey, r.dropping = len(gop) == 0, false
	for _, f := range gop {
		r.ring[r.count] = Item{Frame: f, CatchUp: true}
		r.count++
	}
	if r.count > 0 {
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}
}

// Next returns the next queued item, waiting until one arrives, the context
// ends or the reader is closed.
func (r *Reader) Next(ctx context.Context) (Item, error) {
	for {
		r.mu.Lock()
		if r.count > 0 {
			it := r.ring[r.head]
			r.ring[r.head] = Item{}
			r.head = (r.head + 1) % len(r.ring)
			r.count--
			r.mu.Unlock()
			return it, nil
		}
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return Item{}, ErrReaderClosed
		}
		select {
		case <-r.notify:
		case <-ctx.Done():
			return Item{}, ctx.Err()
		}
	}
}

// RequestKeyframe replays the stream's cached GOP to this reader, for a viewer
// whose decoder lost its reference (an RTCP PLI or FIR).
func (r *Reader) RequestKeyframe() { r.stream.replay(r) }

// Backlog is the number of items waiting in the queue and the queue's size.
func (r *Reader) Backlog() (queued, capacity int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count, len(r.ring)
}

// Dropped is the number of frames this reader lost because it was too slow.
func (r *Reader) Dropped() uint64 { return r.dropped.Load() }

// Close removes the reader from its stream; Next then returns ErrReaderClosed.
func (r *Reader) Close() {
	r.stream.removeReader(r)
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}
