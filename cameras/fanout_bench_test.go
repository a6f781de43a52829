package cameras

import (
	"context"
	"testing"

	"github.com/camgate/camgate/cameras/testutil"
)

// The benchmarks of the hub's per-viewer path, for docs/performance.md.
// Frames have the sizes of the bench clip (make bench): 2 Mbit/s at 25 fps
// is a 10 KB P frame (9 RTP payloads) and a 29 KB IDR every 100 frames.

const (
	benchPFrameBytes = 10000
	benchIFrameBytes = 29000
)

// drainReaders empties every reader's queue without allocating.
func drainReaders(done context.Context, readers []*Reader) {
	for _, r := range readers {
		for {
			if _, err := r.Next(done); err != nil {
				break
			}
		}
	}
}

// BenchmarkStreamWriteAU publishes one P frame to N readers: the ingest
// side of the fan-out (normalize and packetize once, then one queue push per
// reader). allocs/op are per frame; they do not grow with the readers, so
// the per-viewer, per-packet allocations of the hub are zero. ns/viewer-pkt
// is the time per reader and per RTP packet once the per-frame work is
// spread over the readers.
func BenchmarkStreamWriteAU(b *testing.B) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, viewers := range []int{0, 1, 10, 100, 1000} {
		b.Run(benchName(viewers), func(b *testing.B) {
			s := NewStream("cam", "stream")
			s.BeginEpoch(testSPS, testPPS)
			readers := make([]*Reader, viewers)
			for i := range readers {
				readers[i] = s.AddReader(512)
			}
			key := [][]byte{testutil.H264Slice(true, benchIFrameBytes)}
			s.WriteAU(0, key)
			drainReaders(done, readers)
			p := testutil.H264Slice(false, benchPFrameBytes)
			pkts := len(mustBuild(b, p).Payloads)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.WriteAU(int64(i+1)*3600, [][]byte{p})
				if (i+1)%256 == 0 {
					b.StopTimer()
					// A keyframe restarts the GOP cache (it would hit its
					// bound), then the queues are emptied.
					s.WriteAU(int64(i+1)*3600, key)
					drainReaders(done, readers)
					b.StartTimer()
				}
			}
			if viewers > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(viewers*pkts), "ns/viewer-pkt")
			}
		})
	}
}

// mustBuild builds a one-NAL-unit AU with a builder of its own (the
// stream's keeps its parameter sets) and returns the frame.
func mustBuild(b *testing.B, nalu []byte) *Frame {
	b.Helper()
	f := NewFrameBuilder(testSPS, testPPS).Build([][]byte{nalu})
	if f == nil || len(f.Payloads) == 0 {
		b.Fatal("the benchmark frame does not packetize")
	}
	return f
}

// BenchmarkReaderQueue is one viewer's share of the fan-out for one frame:
// the push under the stream's lock and the Next of the viewer's sender.
// It must not allocate.
func BenchmarkReaderQueue(b *testing.B) {
	s := NewStream("cam", "stream")
	r := newReader(s, 128)
	f := &Frame{Key: true, Payloads: [][]byte{{0x65}}, Size: 1}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.push(Item{Frame: f})
		if _, err := r.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
