package playback

// RTP packetization of H.264 (RFC 6184, packetization mode 1) for played
// frames. It mirrors what the cameras package does for live frames (with
// gortsplib's encoder, which only the cameras package may import): small
// NAL units in a row share a STAP-A packet, a NAL unit that fits alone goes
// as a single NAL unit packet, a larger one is split into FU-A fragments.
// Every payload is at most maxPayload bytes.

const (
	naluTypeSTAPA = 24
	naluTypeFUA   = 28
)

// packetize returns the RTP payloads of an access unit and their total size.
func packetize(au [][]byte, maxPayload int) ([][]byte, int) {
	var out [][]byte
	size := 0
	emit := func(p []byte) {
		out = append(out, p)
		size += len(p)
	}
	var batch [][]byte // NAL units waiting to go out together
	batchLen := 1      // STAP-A header
	flush := func() {
		switch len(batch) {
		case 0:
		case 1:
			emit(append([]byte(nil), batch[0]...))
		default:
			p := make([]byte, 1, batchLen)
			nri := byte(0)
			for _, n := range batch {
				nri = max(nri, n[0]&0x60)
			}
			p[0] = nri | naluTypeSTAPA
			for _, n := range batch {
				p = append(p, byte(len(n)>>8), byte(len(n)))
				p = append(p, n...)
			}
			emit(p)
		}
		batch, batchLen = nil, 1
	}
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if len(n) > maxPayload {
			flush()
			fragment(n, maxPayload, emit)
			continue
		}
		if batchLen+2+len(n) > maxPayload && len(batch) > 0 {
			flush()
		}
		batch = append(batch, n)
		batchLen += 2 + len(n)
		if len(batch) == 1 && len(n)+3 > maxPayload {
			// Fits alone, but not in an aggregate.
			flush()
		}
	}
	flush()
	return out, size
}

// fragment splits one NAL unit into FU-A payloads.
func fragment(n []byte, maxPayload int, emit func([]byte)) {
	indicator := n[0]&0xe0 | naluTypeFUA
	typ := n[0] & 0x1f
	data := n[1:]
	chunk := maxPayload - 2
	for first := true; len(data) > 0; first = false {
		k := min(chunk, len(data))
		hdr := typ
		if first {
			hdr |= 0x80
		}
		if k == len(data) {
			hdr |= 0x40
		}
		p := make([]byte, 0, 2+k)
		p = append(p, indicator, hdr)
		p = append(p, data[:k]...)
		emit(p)
		data = data[k:]
	}
}
