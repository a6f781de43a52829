#!/bin/sh
# make-demo.sh — regenerates testdata/demo.h264, the clip looped by the embedded
# demo camera (package cameras/demo) and by tests that need "a camera".
#
# What the clip is, and why:
#   - ffmpeg's testsrc2 pattern, 640x360, 25 fps, 20 s = 500 frames.
#   - H.264 Constrained Baseline, yuv420p: no B-frames, so decode order equals
#     presentation order and the demo server can timestamp frame n as n*3600.
#   - Exactly one slice per frame (-threads 1, slices=1): cameras/demo ends an
#     access unit at each VCL NAL unit, so a second slice would split a frame.
#   - An IDR exactly every 4 s (GOP 100, no scene-cut keyframes), and a whole
#     number of GOPs (5), so looping the clip is seamless: the last GOP ends
#     right before the first IDR comes round again.
#   - Raw Annex-B (-f h264) with SPS/PPS in-band before every IDR (x264's
#     default); the demo server strips them when it plays an "SDP-only" camera.
#   - ~700 kbit/s, capped by VBV, so the file stays well under 3 MB.
#   - -threads 1 and a fixed encoder setup make the output deterministic for a
#     given ffmpeg/x264 build (a different build may produce other bytes).
#   - A large running timecode and frame number are burned in (drawtext) so a
#     human watching the console can see freezes, skips and latency. If the
#     drawtext filter or the DejaVu font is missing, the overlay is skipped.
#
# Usage: testdata/make-demo.sh [output]   (default: demo.h264 next to this script)
# Needs: ffmpeg with libx264 (Debian: apt-get install ffmpeg fonts-dejavu-core).
# Re-runnable: it overwrites the output atomically (writes a temp file, then renames).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/demo.h264"}

fps=25
gop=100        # frames per GOP: one IDR every 4 s at 25 fps
seconds=20     # must be a multiple of gop/fps so the clip is whole GOPs
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

command -v ffmpeg >/dev/null 2>&1 || { echo "make-demo.sh: ffmpeg not found" >&2; exit 1; }

vf="format=yuv420p"
if [ -r "$font" ] && ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' drawtext '; then
	# Timecode (HH:MM:SS:FF) on top, frame number below, on a translucent box.
	# rate=25 makes the timecode count frames at the clip's rate.
	tc="drawtext=fontfile=$font:timecode='00\:00\:00\:00':rate=$fps:fontsize=56:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=10:x=(w-tw)/2:y=h/2-th-20"
	fn="drawtext=fontfile=$font:text='frame %{frame_num}':fontsize=40:fontcolor=yellow:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h/2+20"
	vf="$tc,$fn,$vf"
else
	echo "make-demo.sh: drawtext or $font missing; making the clip without the overlay" >&2
fi

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT INT TERM

ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "testsrc2=size=640x360:rate=$fps" -t "$seconds" \
	-vf "$vf" \
	-c:v libx264 -preset veryfast -threads 1 -profile:v baseline -pix_fmt yuv420p \
	-g "$gop" -keyint_min "$gop" -sc_threshold 0 -x264-params slices=1 \
	-b:v 700k -maxrate 900k -bufsize 900k \
	-f h264 "$tmp"

mv "$tmp" "$out"
trap - EXIT INT TERM
echo "make-demo.sh: wrote $out ($(wc -c <"$out") bytes)"
