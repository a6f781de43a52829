package rtc

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// acceptsH265 reads the answer's video sections: an H.265 rtpmap counts
// only on a section the answer does not reject.
func TestAcceptsH265(t *testing.T) {
	t.Parallel()
	const head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name string
		sdp  string
		want bool
	}{
		{"H.265 and H.264", head + "m=video 9 UDP/TLS/RTP/SAVPF 98 96\r\na=rtpmap:98 H265/90000\r\na=rtpmap:96 H264/90000\r\n", true},
		{"lower case", head + "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 h265/90000\r\n", true},
		{"H.264 only", head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n", false},
		{"rejected section", head + "m=video 0 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 H265/90000\r\n", false},
		{"audio only", head + "m=audio 9 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 H265/90000\r\n", false},
	} {
		if got := acceptsH265(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: tc.sdp}); got != tc.want {
			t.Errorf("%s: acceptsH265 = %v, want %v", tc.name, got, tc.want)
		}
	}
}
