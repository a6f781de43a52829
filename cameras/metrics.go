package cameras

// IngestStats are counters of a stream's RTSP pull since camgate started,
// for metrics.
type IngestStats struct {
	// Reconnects counts the connection attempts after the first one: each
	// follows a failed or ended run (and the back-off wait).
	Reconnects uint64
	// DecodeErrors counts RTP packets or access units that could not be
	// decoded (and were skipped).
	DecodeErrors uint64
	// PacketsLost counts RTP packets the camera sent that never arrived
	// (gaps in the sequence numbers).
	PacketsLost uint64
}

// IngestStats returns the stream's ingest counters. It takes no lock.
func (cs *CameraStream) IngestStats() IngestStats {
	return IngestStats{
		Reconnects:   cs.sv.reconnects.Load(),
		DecodeErrors: cs.sv.counters.decodeErrors.Load(),
		PacketsLost:  cs.sv.counters.packetsLost.Load(),
	}
}

// Started reports whether Run has started every stream's supervisor
// and its ctx has not ended yet.
func (r *Registry) Started() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}
