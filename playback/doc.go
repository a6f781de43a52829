// Package playback is camgate's recording store: continuous recording of
// camera streams into fragmented-MP4 segment files, a per-camera SQLite
// time index, crash recovery, retention, and a player that yields paced
// frames for WebRTC playback at a time, a speed and a gap mode.
//
// The pieces, and who uses them:
//
//	store, err := playback.NewStore(ctx, playback.Options{Dir: dir, Recording: rec, Retain: retain, Logger: log})
//	defer store.Close()
//
//	// one recorder per recorded camera (its default stream's hub); Run
//	// records until ctx ends, then finishes the open fragment
//	rec, err := store.NewRecorder(cameraStream.Hub)
//	err = rec.Run(ctx)
//
//	// REST: timeline and download
//	spans, err := store.Spans(ctx, cameraID, from, to)
//	info, err := store.Export(ctx, cameraID, start, duration, w)
//
//	// WebRTC playback session
//	p, err := store.Open(ctx, playback.PlayRequest{CameraID: id, Start: t, Speed: s, SkipGaps: skip})
//	defer p.Close()
//	go forward(p.Events())          // data channel "playback" events
//	for {
//		f, err := p.Next(ctx)        // blocks until the frame is due
//		if err == io.EOF { break }   // end of the recordings
//		send(f.Frame.Payloads, f.RTPTimestamp(1000)) // ms since the requested time
//	}
//
// Frames are built like live frames, by cameras.FrameBuilder (*cameras.Frame:
// NAL units without start codes, SPS and PPS before every IDR, RTP payloads
// of at most cameras.MaxPayloadSize bytes), so one sender can play either. Errors that
// a client causes are typed: *RequestError (a bad parameter, HTTP 400) and
// *RangeError (nothing recorded there, with the available range in its
// text).
//
// docs/recording.md describes the layout on disk, the index, recovery,
// retention, reindex and the playback semantics.
package playback
