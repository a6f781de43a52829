// attachVideo shows a peer connection's track (from ontrack) in video and
// calls firstFrame with the milliseconds from t0 to the first frame on
// screen (the time to first frame). It returns the requestVideoFrameCallback
// handle, for cancelVideoFrameCallback when the view closes, or 0 where the
// browser has none and the video's 'playing' event stands in for it.
export function attachVideo(video, e, t0, firstFrame) {
  video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
  if ('requestVideoFrameCallback' in video) {
    return video.requestVideoFrameCallback((now) => firstFrame(Math.round(now - t0)));
  }
  video.addEventListener('playing', () => firstFrame(Math.round(performance.now() - t0)), { once: true });
  return 0;
}
