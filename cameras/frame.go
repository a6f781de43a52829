package cameras

import "time"

// Frame is one H.264 or H.265 access unit of a camera stream, packetized
// once for WebRTC. A Frame is immutable once published: the hub shares one Frame with
// every viewer and the recorder, so nobody may modify its slices.
type Frame struct {
	// Epoch counts the runs of the stream's source. It changes when the camera
	// reconnects; timestamps of different epochs are unrelated.
	Epoch uint64
	// PTS is the presentation time in 90 kHz units since the epoch started.
	// It goes backwards from one frame to the next when the camera sends
	// B-frames (frames come in decode order).
	PTS int64
	// DTS is the decode time in 90 kHz units, on PTS's clock: it increases
	// from frame to frame within an epoch (unless the camera's clock
	// jumps back by more than a second) and is at most PTS for a camera
	// whose timestamps are sane. Senders and the recorder time frames by it, so
	// that a camera with B-frames keeps a monotonic clock at real time;
	// PTS − DTS is the frame's composition offset. Equal to PTS for a
	// camera without B-frames.
	DTS int64
	// Codec is the frame's codec. It changes only with the epoch (a camera
	// reconfigured between two connections).
	Codec Codec
	// Key reports a keyframe (H.264: IDR; H.265: IDR or CRA). Its AU starts
	// with the parameter sets (H.264: SPS, PPS; H.265: VPS, SPS, PPS).
	Key bool
	// AU holds the NAL units (without start codes).
	AU [][]byte
	// Payloads are the RTP payloads of the frame (FU-A, STAP-A or single NAL
	// unit packets) of at most MaxPayloadSize bytes. The last packet of a
	// frame carries the RTP marker bit. They are never modified once the
	// frame is published: senders keep references to resend packets.
	Payloads [][]byte
	// Size is the sum of the payload sizes in bytes.
	Size int
	// Arrived is when the hub published a live frame (zero for recorded
	// frames): a viewer's clock follows it, not the time the frame was
	// sent to that viewer, which may be later when it queued behind a
	// catch-up.
	Arrived time.Time
}

// MaxPayloadSize is the largest RTP payload camgate sends to viewers. 1188
// bytes plus RTP, SRTP, UDP and IP headers stays below the 1280-byte IPv6
// minimum MTU, so packets survive VPNs and tunnels without fragmentation.
const MaxPayloadSize = 1188

// ParamSets returns the parameter sets a keyframe carries in front of its
// slices (FrameBuilder puts them there): SPS and PPS, and the VPS of an
// H.265 frame. They are nil for a frame that has none.
func (f *Frame) ParamSets() (vps, sps, pps []byte) {
	kinds := paramSets{h265: f.Codec == CodecH265}
	for _, nalu := range f.AU {
		switch kinds.role(nalu) {
		case roleVPS:
			vps = nalu
		case roleSPS:
			sps = nalu
		case rolePPS:
			pps = nalu
		default:
			return vps, sps, pps // they come first
		}
	}
	return vps, sps, pps
}
