package demo

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"
)

const demoClipPath = "../../testdata/demo.h264"

// quietLogger keeps start/stop messages out of test output.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// loadDemo loads the committed demo clip.
func loadDemo(t *testing.T) *Clip {
	t.Helper()
	c, err := LoadClip(demoClipPath)
	if err != nil {
		t.Fatalf("LoadClip: %v", err)
	}
	return c
}

// annexB joins access units into an Annex-B byte stream.
func annexB(t testing.TB, aus ...[][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, au := range aus {
		b, err := h264.AnnexB(au).Marshal()
		if err != nil {
			t.Fatalf("marshal annex-b: %v", err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// smallClip is the first n frames of the demo clip (one IDR, then P
// frames): a real, decodable stream that loops every n frames, so a test
// crosses loop boundaries in a fraction of a second at a raised FPS.
func smallClip(t *testing.T, n int) *Clip {
	t.Helper()
	demo := loadDemo(t)
	aus := make([][][]byte, n)
	for i := range aus {
		aus[i] = demo.AccessUnit(i)
	}
	c, err := ParseClip(annexB(t, aus...))
	if err != nil {
		t.Fatalf("ParseClip(small): %v", err)
	}
	return c
}

// startServer starts s with test defaults filled in and closes it at the end.
func startServer(t *testing.T, s *Server) *Server {
	t.Helper()
	if s.Logger == nil {
		s.Logger = quietLogger()
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// frame is one access unit as a client received it.
type frame struct {
	pts int64 // 90 kHz, relative, from gortsplib's PacketPTS2
	au  [][]byte
}

// reader is a gortsplib client playing one URL. Frames arrive on a buffered
// channel so that assertions run on the test goroutine.
type reader struct {
	client *gortsplib.Client
	desc   *description.Session
	forma  *format.H264
	frames chan frame
}

// dial connects, describes, sets up and plays u over transport (nil: auto).
func dial(u string, transport *gortsplib.Transport) (*reader, error) {
	pu, err := base.ParseURL(u)
	if err != nil {
		return nil, err
	}
	c := &gortsplib.Client{
		Scheme: pu.Scheme, Host: pu.Host, Transport: transport, ReadTimeout: 5 * time.Second,
		// Loss and decode errors are expected in corruption tests; gortsplib
		// would log each one to the standard logger.
		OnPacketsLost:     func(uint64) {},
		OnDecodeError:     func(error) {},
		OnTransportSwitch: func(error) {},
	}
	if err := c.Start2(); err != nil {
		return nil, err
	}
	r := &reader{client: c, frames: make(chan frame, 4096)}
	fail := func(err error) (*reader, error) { c.Close(); return nil, err }

	desc, _, err := c.Describe(pu)
	if err != nil {
		return fail(err)
	}
	r.desc = desc
	medi := desc.FindFormat(&r.forma)
	if medi == nil {
		return fail(errors.New("no H264 media in SDP"))
	}
	dec, err := r.forma.CreateDecoder()
	if err != nil {
		return fail(err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return fail(err)
	}
	c.OnPacketRTP(medi, r.forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS2(medi, pkt)
		if !ok {
			return
		}
		au, err := dec.Decode(pkt)
		if err != nil {
			return // fragments in progress, or damage the test injected
		}
		select {
		case r.frames <- frame{pts: pts, au: au}:
		default: // the test stopped reading; never block gortsplib
		}
	})
	if _, err := c.Play(nil); err != nil {
		return fail(err)
	}
	return r, nil
}

// mustDial is dial that fails the test and closes the client at the end.
func mustDial(t *testing.T, u string, transport *gortsplib.Transport) *reader {
	t.Helper()
	r, err := dial(u, transport)
	if err != nil {
		t.Fatalf("play %s: %v", u, err)
	}
	t.Cleanup(r.client.Close)
	return r
}

// next waits for the next frame.
func (r *reader) next(t *testing.T) frame {
	t.Helper()
	select {
	case f := <-r.frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5 s")
		return frame{}
	}
}

// nextIDR skips frames up to and including the next IDR and returns it.
func (r *reader) nextIDR(t *testing.T) frame {
	t.Helper()
	for range 10000 {
		if f := r.next(t); h264.IsRandomAccess(f.au) {
			return f
		}
	}
	t.Fatal("no IDR")
	return frame{}
}

// isVCL reports whether the NAL unit is a slice; used to compare frames
// regardless of the parameter sets in front.
func isVCL(nalu []byte) bool {
	t := h264.NALUType(nalu[0] & 0x1f)
	return t == h264.NALUTypeIDR || t == h264.NALUTypeNonIDR
}

func hasParams(au [][]byte) (sps, pps bool) {
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = true
		case h264.NALUTypePPS:
			pps = true
		}
	}
	return sps, pps
}

// slice returns the (single) VCL NAL unit of an access unit.
func slice(au [][]byte) []byte {
	for _, n := range au {
		if isVCL(n) {
			return n
		}
	}
	return nil
}

var (
	tcp = func() *gortsplib.Transport { v := gortsplib.TransportTCP; return &v }()
	udp = func() *gortsplib.Transport { v := gortsplib.TransportUDP; return &v }()
)
