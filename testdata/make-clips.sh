#!/bin/sh
# make-clips.sh — regenerates the clips that cameras/cameratest serves as
# RTSP cameras in tests of what the demo clip (demo.h264) cannot show:
#   - bframes.mp4: H.264 High profile with 2 B-frames (-bf 2), as many
#     cameras send by default: frames come in decode order and their
#     presentation times go backwards within a GOP.
#   - h265.mp4: H.265 (hvc1), no B-frames, as H.265 cameras send.
# Both: ffmpeg's testsrc2, 320x180, 25 fps, 4 s, a keyframe every 2 s (no
# scene-cut keyframes), so the clips loop seamlessly; fragmented MP4, so
# that every frame keeps its encoder's decode and presentation times and
# the parameter sets sit in the sample entry (the test camera sends them
# only in its SDP); negative_cts_offsets writes version-1 trun boxes, the
# composition offsets mediacommon reads. About 150 kB each.
#
# Usage: testdata/make-clips.sh   (writes next to this script)
# Needs: ffmpeg with libx264 and libx265 (Debian: apt-get install ffmpeg).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
common="-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x180:rate=25 -t 4 -pix_fmt yuv420p -b:v 300k"
frag="-movflags frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets -f mp4"

# shellcheck disable=SC2086
ffmpeg $common -c:v libx264 -preset veryfast -threads 1 -profile:v high -bf 2 \
	-g 50 -keyint_min 50 -sc_threshold 0 -x264-params slices=1 \
	$frag "$here/bframes.mp4.tmp"
mv "$here/bframes.mp4.tmp" "$here/bframes.mp4"

# shellcheck disable=SC2086
ffmpeg $common -c:v libx265 -preset veryfast \
	-x265-params "keyint=50:min-keyint=50:scenecut=0:bframes=0:log-level=error:pools=1:frame-threads=1" \
	-tag:v hvc1 $frag "$here/h265.mp4.tmp"
mv "$here/h265.mp4.tmp" "$here/h265.mp4"
