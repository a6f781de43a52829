// Package demo is an in-process RTSP camera that loops an H.264 Annex-B clip.
//
// camgate uses it as its embedded demo camera, pulled over RTSP exactly like
// a real camera, and tests everywhere use it as "an RTSP server on loopback".
// It can behave like the two kinds of camera seen in the field: one that
// repeats SPS/PPS in-band before every IDR, and one that announces them only
// in the SDP (sprop-parameter-sets). It can require Digest authentication,
// and it can corrupt chosen frames or RTP packets so tests can prove that the
// ingest survives bad input.
//
// A Clip is parsed once and is immutable; any number of Servers may share it.
// A Server paces the clip in real time (one access unit per 1/FPS) like a
// live camera: it streams whether or not anyone watches, and a reader that
// joins mid-GOP waits for the next IDR, as with real cameras. Tests that need
// a fast first keyframe raise FPS (RTP timestamps follow the pacing, so the
// stream stays self-consistent). On a busy machine the timestamps still keep
// to the wall clock: a Server that falls behind sends the frames it owes at
// once, and more than a second behind it skips them, as a camera does.
//
// gortsplib stays inside the cameras tree: this package imports it, callers
// only see URLs, clips and plain Go types.
package demo
