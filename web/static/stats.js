// readStats turns a peer connection's getStats into the numbers the page
// shows: frames, frame rate, size, bitrate (from the bytes since the last
// sample, kept in prev), packets lost and the round-trip time of the
// selected candidate pair.
export async function readStats(pc, prev) {
  const out = {};
  const report = await pc.getStats();
  report.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') {
      // Chromium omits the fields it has no value for yet.
      Object.assign(out, {
        framesDecoded: r.framesDecoded ?? 0,
        fps: r.framesPerSecond ?? 0,
        width: r.frameWidth ?? 0,
        height: r.frameHeight ?? 0,
        packetsLost: r.packetsLost ?? 0,
      });
      const bytes = r.bytesReceived ?? 0;
      if (prev.bytes !== undefined && r.timestamp > prev.at) {
        out.bitrateKbps = Math.round(((bytes - prev.bytes) * 8) / (r.timestamp - prev.at));
      }
      prev.bytes = bytes;
      prev.at = r.timestamp;
    } else if (r.type === 'candidate-pair' && (r.nominated || r.selected) && r.state === 'succeeded') {
      if (r.currentRoundTripTime !== undefined) out.rttMs = Math.round(r.currentRoundTripTime * 1000);
    }
  });
  return out;
}
