package testutil

// H264Slice returns an H.264 slice NAL unit of size bytes (at least 1):
// an IDR slice when key, else a non-IDR one, with a filler body. Benchmarks
// and tests of the hub and the sender feed it as camera video; only its
// type and size matter to them.
func H264Slice(key bool, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	b[0] = 0x41 // nal_ref_idc 2, type 1: non-IDR slice
	if key {
		b[0] = 0x65 // nal_ref_idc 3, type 5: IDR slice
	}
	return b
}
