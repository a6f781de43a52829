package cameratest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// Server is an RTSP camera (RTP over TCP only, no authentication) that loops a
// clip in real time, frames in decode order at their decode times, RTP
// timestamps from their presentation times, as a camera does. Parameter
// sets go only in the SDP (the clip's come from the MP4's sample entry).
// The clip starts at the first PLAY, so the first client gets its first
// keyframe at once.
type Server struct {
	clip   *Clip
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
	medi   *description.Media
	url    string

	played chan struct{}
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// Start serves clip on a free loopback port.
func Start(clip *Clip) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{clip: clip, played: make(chan struct{}), done: make(chan struct{})}
	var forma format.Format
	switch clip.Codec {
	case H265:
		forma = &format.H265{PayloadTyp: 96, VPS: clip.VPS, SPS: clip.SPS, PPS: clip.PPS}
	default:
		forma = &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}
	}
	s.medi = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	s.srv = &gortsplib.Server{
		Handler:     s,
		RTSPAddress: ln.Addr().String(),
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if err := s.srv.Start(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("gortsplib server: %w", err)
	}
	s.stream = &gortsplib.ServerStream{Server: s.srv, Desc: &description.Session{Medias: []*description.Media{s.medi}}}
	if err := s.stream.Initialize(); err != nil {
		s.srv.Close()
		return nil, fmt.Errorf("server stream: %w", err)
	}
	s.url = "rtsp://" + ln.Addr().String() + "/cam"
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.loop(ctx)
	return s, nil
}

// Serve starts a camera that loops the testdata clip name (Path) until the
// test ends.
func Serve(t testing.TB, name string) (*Server, *Clip) {
	t.Helper()
	clip, err := Load(Path(name))
	if err != nil {
		t.Fatalf("clip: %v", err)
	}
	srv, err := Start(clip)
	if err != nil {
		t.Fatalf("test camera: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv, clip
}

// URL is the camera's stream URL.
func (s *Server) URL() string { return s.url }

// Close stops the camera.
func (s *Server) Close() {
	s.cancel()
	<-s.done
	s.stream.Close()
	s.srv.Close()
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (s *Server) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (s *Server) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (s *Server) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	s.once.Do(func() { close(s.played) })
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// payloader packetizes an access unit for the clip's codec.
type payloader func(au [][]byte) ([]*rtp.Packet, error)

func (s *Server) payloader() (payloader, error) {
	switch forma := s.medi.Formats[0].(type) {
	case *format.H265:
		enc, err := forma.CreateEncoder()
		if err != nil {
			return nil, err
		}
		return enc.Encode, nil
	case *format.H264:
		enc, err := forma.CreateEncoder()
		if err != nil {
			return nil, err
		}
		return enc.Encode, nil
	}
	return nil, fmt.Errorf("no encoder for %T", s.medi.Formats[0])
}

// loop sends the clip over and over from the first PLAY: frame i of pass
// n at start + n×Duration + DTS, stamped with its PTS.
func (s *Server) loop(ctx context.Context) {
	defer close(s.done)
	select {
	case <-ctx.Done():
		return
	case <-s.played:
	}
	encode, err := s.payloader()
	if err != nil {
		return
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for pass := int64(0); ; pass++ {
		for _, f := range s.clip.Frames {
			dts := pass*s.clip.Duration + f.DTS
			due := start.Add(time.Duration(dts) * time.Second / 90000)
			timer.Reset(time.Until(due))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			pkts, err := encode(f.AU)
			if err != nil {
				continue
			}
			pts := pass*s.clip.Duration + f.PTS
			for _, pkt := range pkts {
				pkt.Timestamp = uint32(pts)
				_ = s.stream.WritePacketRTPWithNTP(s.medi, pkt, due)
			}
		}
	}
}
