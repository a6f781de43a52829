package rtc

import (
	"context"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
)

// Benchmarks of the per-viewer media path, for docs/performance.md:
//
//   - BenchmarkLiveSenderSend: one RTP packet to one viewer through the
//     session's sender (liveSource's timestamp, mediaSender.write), with the
//     track unbound (camgate's own code: header rewrite and pion's WriteRTP
//     entry),
//     bound to a writer that discards (adds pion's track fan-out), and bound
//     to a real peer connection built by newMediaAPI, connected over
//     loopback to a pion client (adds pion's interceptors, SRTP and the UDP
//     send). The difference between the last and the first is pion's share.
//   - BenchmarkLiveLatency: a cameras.Stream at 2 Mbit/s and 25 fps fanned
//     out to N viewers through the sessions' sender goroutines (mediaSender
//     on a liveSource); each packet's
//     delay from Stream.WriteAU to the return of its write (the discarding
//     writer, or pion's SRTP write to the socket) is reported as percentiles.
//
// Nothing here asserts on time: the figures are printed by go test -bench.

// Bench clip sizes (make bench): a 10 KB P frame and a 29 KB IDR every 100
// frames at 25 fps is 2 Mbit/s.
const (
	benchFPS         = 25
	benchGOP         = 100
	benchPFrameBytes = 10000
	benchIFrameBytes = 29000
	// latencyFrames is one op of BenchmarkLiveLatency: 5 s of video with
	// two keyframes.
	latencyFrames = 125
)

var (
	benchSPS = []byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x40}
	benchPPS = []byte{0x68, 0xce, 0x3c, 0x80}
)

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeBinding binds a track to a writer without a peer connection.
type fakeBinding struct {
	id string
	w  webrtc.TrackLocalWriter
}

func (f fakeBinding) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{RTPCodecCapability: h264Codec(), PayloadType: 96}}
}
func (f fakeBinding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (f fakeBinding) SSRC() webrtc.SSRC                                      { return 0x12345678 }
func (f fakeBinding) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (f fakeBinding) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (f fakeBinding) WriteStream() webrtc.TrackLocalWriter                   { return f.w }
func (f fakeBinding) ID() string                                             { return f.id }
func (f fakeBinding) RTCPReader() interceptor.RTCPReader                     { return nil }

// discardWriter is a TrackLocalWriter that drops packets, optionally
// logging when each was written.
type discardWriter struct{ log *sendLog }

func (d discardWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	if d.log != nil {
		d.log.add(payload)
	}
	return len(payload), nil
}
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// sendRecorder logs when each packet's write returned, per viewer. As an
// interceptor registered before pion's defaults it is the innermost one:
// its writer wraps pion's SRTP writer, so "returned" means encrypted and
// handed to the kernel.
type sendRecorder struct {
	interceptor.NoOp
	base time.Time

	mu   sync.Mutex
	logs []*sendLog
}

type sendLog struct {
	base time.Time
	mu   sync.Mutex
	recs []sendRec
}

// sendRec is one packet written: which payload (its address: frames are
// immutable and kept alive for the whole run) and when.
type sendRec struct {
	payload uintptr
	at      time.Duration
}

func (l *sendLog) add(payload []byte) {
	if len(payload) == 0 {
		return
	}
	at := time.Since(l.base)
	l.mu.Lock()
	l.recs = append(l.recs, sendRec{payload: uintptr(unsafe.Pointer(&payload[0])), at: at})
	l.mu.Unlock()
}

func (r *sendRecorder) newLog() *sendLog {
	l := &sendLog{base: r.base}
	r.mu.Lock()
	r.logs = append(r.logs, l)
	r.mu.Unlock()
	return l
}

// take returns and clears every viewer's records.
func (r *sendRecorder) take() []sendRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sendRec
	for _, l := range r.logs {
		l.mu.Lock()
		out = append(out, l.recs...)
		l.recs = l.recs[:0]
		l.mu.Unlock()
	}
	return out
}

func (r *sendRecorder) NewInterceptor(string) (interceptor.Interceptor, error) { return r, nil }

func (r *sendRecorder) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	l := r.newLog()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		n, err := w.Write(h, payload, a)
		l.add(payload)
		return n, err
	})
}

func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() }

// benchWebRTCSettings are camgate's WebRTC settings for loopback, as in
// bench/appsettings.json.
func benchWebRTCSettings() MediaConfig {
	cfg := testMediaConfig()
	cfg.UDPPort = 0
	cfg.MDNS = MDNSDisabled
	cfg.IPs = prefixes("127.0.0.1")
	return cfg
}

// timedMediaAPI is newMediaAPI's pion setup for loopback (the same codec,
// no other interceptor, one shared UDP mux) with rec, if not nil, as the
// innermost interceptor. pionDefaults adds pion's default set (NACK
// responder of 1024 packets, stats, TWCC, reports), which camgate used
// before it answered NACKs and wrote sender reports itself, for comparison.
func timedMediaAPI(tb testing.TB, rec *sendRecorder, pionDefaults bool) *webrtc.API {
	tb.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec(), PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		tb.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if rec != nil {
		reg.Add(rec)
	}
	if pionDefaults {
		if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
			tb.Fatal(err)
		}
	}
	mux, err := ice.NewMultiUDPMuxFromPort(0, ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
		ice.UDPMuxFromPortWithLoopback(), ice.UDPMuxFromPortWithIPFilter(loopbackOnly))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mux.Close() })
	se := webrtc.SettingEngine{}
	se.SetICEUDPMux(mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopbackOnly)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// benchClientAPI is a viewer that negotiates what Chrome does (H.264,
// transport-wide sequence numbers) but runs no interceptors, to keep its
// CPU, which shares the machine with the sender, low.
func benchClientAPI(tb testing.TB) *webrtc.API {
	tb.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec(), PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		tb.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{
		URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
	}, webrtc.RTPCodecTypeVideo); err != nil {
		tb.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(loopbackOnly)
	// An empty registry: without one, pion registers its defaults.
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(se))
}

// connectViewer builds a session-like send-only peer connection on
// serverAPI, connects a client of clientAPI to it over loopback (SDP
// exchanged in process) and returns the bound track once DTLS is up.
func connectViewer(tb testing.TB, serverAPI, clientAPI *webrtc.API) *webrtc.TrackLocalStaticRTP {
	tb.Helper()
	pc, err := serverAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(h264Codec(), "video", "bench")
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		tb.Fatal(err)
	}
	go func() { // as Session.drainRTCP: the interceptors need RTCP read
		for {
			if _, _, err := tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		tb.Fatal(err)
	}
	<-gathered

	cl, err := clientAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cl.Close() })
	cl.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})
	if err := cl.SetRemoteDescription(*pc.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	answer, err := cl.CreateAnswer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	cgathered := webrtc.GatheringCompletePromise(cl)
	if err := cl.SetLocalDescription(answer); err != nil {
		tb.Fatal(err)
	}
	<-cgathered
	if err := pc.SetRemoteDescription(*cl.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(30 * time.Second):
		tb.Fatalf("viewer did not connect (ICE %s)", pc.ICEConnectionState())
	}
	return track
}

// BenchmarkLiveSenderSend sends one 1188-byte packet (a one-packet frame)
// per op to one viewer. allocs/op is per packet per viewer.
func BenchmarkLiveSenderSend(b *testing.B) {
	payload := testutil.H264Slice(false, cameras.MaxPayloadSize)
	run := func(b *testing.B, track *webrtc.TrackLocalStaticRTP) {
		// What a live session's sender does with each item of its reader:
		// the live source's timestamp, then mediaSender.write.
		src := newLiveSource(nil, cameras.CodecH264, 0, rtpClock{ticksPerSecond: 1000}, time.Now())
		s := newMediaSender(track)
		f := &cameras.Frame{Epoch: 1, Payloads: [][]byte{payload}, Size: len(payload)}
		send := func() { s.write(f, uint32(src.timestamp(cameras.Item{Frame: f}))) }
		send()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			f.PTS += 3600 // the frame is this benchmark's own, not a shared one
			f.DTS = f.PTS
			send()
		}
	}
	b.Run("track=unbound", func(b *testing.B) {
		track, err := webrtc.NewTrackLocalStaticRTP(h264Codec(), "video", "bench")
		if err != nil {
			b.Fatal(err)
		}
		run(b, track)
	})
	b.Run("track=discard", func(b *testing.B) {
		track, err := webrtc.NewTrackLocalStaticRTP(h264Codec(), "video", "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := track.Bind(fakeBinding{id: "discard", w: discardWriter{}}); err != nil {
			b.Fatal(err)
		}
		run(b, track)
	})
	b.Run("track=pion", func(b *testing.B) {
		media, err := newMediaAPI(benchWebRTCSettings(), discardLog())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(media.Close)
		track := connectViewer(b, media.api, benchClientAPI(b))
		run(b, track)
	})
	b.Run("track=pion-defaults", func(b *testing.B) {
		track := connectViewer(b, timedMediaAPI(b, nil, true), benchClientAPI(b))
		run(b, track)
	})
}

// BenchmarkLiveLatency publishes paced frames (25 fps, 2 Mbit/s, GOP 100)
// into a stream with N viewers, each a mediaSender goroutine on a
// liveSource with a reader of ViewerQueueFrames, and reports the delay from
// Stream.WriteAU to the return of each packet's write: p50-us, p99-us and
// max-us. One op is 125 frames (5 s). binding=discard measures camgate alone (hub, queue,
// goroutine wake-up, mediaSender, pion's track); binding=pion adds pion's
// interceptors, SRTP and the kernel's UDP send on loopback, with the
// viewers' pion clients decrypting in the same process.
func BenchmarkLiveLatency(b *testing.B) {
	for _, tc := range []struct {
		name               string
		viewers            int
		pion, pionDefaults bool
	}{
		{"binding=discard/viewers=100", 100, false, false},
		{"binding=discard/viewers=1000", 1000, false, false},
		{"binding=pion/viewers=100", 100, true, false},
		{"binding=pion-defaults/viewers=100", 100, true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rec := &sendRecorder{base: time.Now()}
			stream := cameras.NewStream("cam", "stream")
			stream.BeginEpoch(benchSPS, benchPPS)
			key := [][]byte{testutil.H264Slice(true, benchIFrameBytes)}
			delta := [][]byte{testutil.H264Slice(false, benchPFrameBytes)}
			stream.WriteAU(0, key) // the GOP cache the viewers start from
			heap0 := heapInuse()

			var serverAPI, clientAPI *webrtc.API
			if tc.pion {
				serverAPI, clientAPI = timedMediaAPI(b, rec, tc.pionDefaults), benchClientAPI(b)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			b.Cleanup(func() { cancel(); wg.Wait() })
			queue := testMediaConfig().ViewerQueueFrames
			for range tc.viewers {
				var track *webrtc.TrackLocalStaticRTP
				if tc.pion {
					track = connectViewer(b, serverAPI, clientAPI)
				} else {
					var err error
					track, err = webrtc.NewTrackLocalStaticRTP(h264Codec(), "video", "bench")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := track.Bind(fakeBinding{id: "discard", w: discardWriter{log: rec.newLog()}}); err != nil {
						b.Fatal(err)
					}
				}
				// As Session.startMedia: a live source on the stream's hub
				// and the session's sender on it.
				src := newLiveSource(stream, cameras.CodecH264, queue, rtpClock{ticksPerSecond: 1000}, time.Now())
				src.start()
				s := newMediaSender(track)
				wg.Go(func() { _ = s.run(ctx, src) })
			}
			// The pacer's own reader hands it each published frame, whose
			// payload addresses identify the packets in the viewers' logs.
			own := stream.AddReader(4 * latencyFrames)
			time.Sleep(500 * time.Millisecond) // catch-up sent, goroutines parked
			var samples []time.Duration
			b.ResetTimer()
			for range b.N {
				rec.take()
				sentAt := map[uintptr]time.Duration{}
				var frames []*cameras.Frame // alive until matched: addresses stay unique
				ticker := time.NewTicker(time.Second / benchFPS)
				for i := range latencyFrames {
					au := delta
					if i%benchGOP == 0 {
						au = key
					}
					t0 := time.Since(rec.base)
					stream.WriteAU(int64(i)*90000/benchFPS, au)
					for {
						it, err := own.Next(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if it.CatchUp {
							continue
						}
						frames = append(frames, it.Frame)
						for _, p := range it.Frame.Payloads {
							sentAt[uintptr(unsafe.Pointer(&p[0]))] = t0
						}
						break
					}
					<-ticker.C
				}
				ticker.Stop()
				time.Sleep(200 * time.Millisecond) // the last frame's sends
				for _, r := range rec.take() {
					if t0, ok := sentAt[r.payload]; ok {
						samples = append(samples, r.at-t0)
					}
				}
				_ = frames
			}
			b.StopTimer()
			if tc.pion {
				// Both ends of each connection live in this process: the
				// figure is an upper bound of the server's share.
				b.ReportMetric(float64(heapInuse()-heap0)/1024/float64(tc.viewers), "heap-KB/viewer")
			}
			// CAMGATE_BENCH_HEAPPROFILE=file writes the live heap with every
			// viewer still connected: what each viewer costs in memory.
			if path := os.Getenv("CAMGATE_BENCH_HEAPPROFILE"); path != "" && tc.pion {
				writeHeapProfile(b, path)
			}
			if len(samples) == 0 {
				b.Fatal("no packet was sent")
			}
			slices.Sort(samples)
			us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
			at := func(p float64) time.Duration { return samples[min(len(samples)-1, int(p*float64(len(samples))))] }
			b.ReportMetric(us(at(0.50)), "p50-us")
			b.ReportMetric(us(at(0.99)), "p99-us")
			b.ReportMetric(us(samples[len(samples)-1]), "max-us")
			b.ReportMetric(float64(len(samples))/float64(b.N), "pkts/op")
		})
	}
}

func writeHeapProfile(tb testing.TB, path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	tb.Logf("heap profile %s: HeapInuse %d KB, Sys %d KB", path, ms.HeapInuse>>10, ms.Sys>>10)
}

// heapInuse is the live heap after a collection.
func heapInuse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}
