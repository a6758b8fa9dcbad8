#!/usr/bin/env bash
# Build a Homeward lesson video from hand-drawn SVG slides and a narration script.
#
#   content/parents/_tools/make-video.sh <lesson-slug> [<lesson-slug> ...]
#
# Inputs  (content/parents/_tools/video-src/<slug>/):
#   slide-1.svg … slide-N.svg   640x360 slides (text uses Noto Sans CJK at build time only)
#   narration.tsv               one sentence per line: slide<TAB>Chinese<TAB>English
# Outputs (content/parents/<slug>/):
#   video.mp4                   H.264 + AAC, 640x360, 10 fps, faststart
#   captions.zh.vtt, captions.en.vtt   one cue per sentence, timed from the synthesized audio
# It prints the measured duration, for `duration_seconds` in lesson.toml.
# Intermediate files (PNG slides, WAV) stay in a temporary folder under /tmp.
#
# Needs: apt-get install -y ffmpeg espeak-ng fonts-noto-cjk librsvg2-bin
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SERIES=$(dirname "$HERE")
PAUSE=${PAUSE:-0.5}    # silence after each sentence, seconds
SPEED=${SPEED:-175}    # espeak-ng words per minute
VOICE=${VOICE:-cmn}    # espeak-ng Mandarin voice

for tool in ffmpeg ffprobe espeak-ng rsvg-convert awk; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

dur() { ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$1" </dev/null; }

# seconds -> HH:MM:SS.mmm
ts() { awk -v t="$1" 'BEGIN { ms = int(t * 1000 + 0.5); h = int(ms / 3600000); ms -= h * 3600000;
  m = int(ms / 60000); ms -= m * 60000; s = int(ms / 1000); ms -= s * 1000;
  printf "%02d:%02d:%02d.%03d", h, m, s, ms }'; }

build() {
  local slug=$1 src=$HERE/video-src/$1 out=$SERIES/$1
  [ -f "$src/narration.tsv" ] || { echo "no $src/narration.tsv" >&2; return 1; }
  mkdir -p "$out"
  local work; work=$(mktemp -d /tmp/homeward-video.XXXXXX)

  # 1. slides -> PNG
  local n=0
  for svg in "$src"/slide-*.svg; do
    n=$((n + 1))
    rsvg-convert -w 640 -h 360 -b white "$src/slide-$n.svg" -o "$work/slide-$n.png"
  done

  # 2. one WAV per sentence (speech + pause), and the caption timeline
  local i=0 t=0 zhvtt="$work/zh.vtt" envtt="$work/en.vtt"
  declare -A slide_len=()
  printf 'WEBVTT\n\n' >"$zhvtt"; printf 'WEBVTT\n\n' >"$envtt"
  : >"$work/audio.txt"
  while IFS=$'\t' read -r -u 3 slide zh en; do
    [[ -z "$slide" || "$slide" == \#* ]] && continue
    i=$((i + 1))
    espeak-ng -v "$VOICE" -s "$SPEED" -w "$work/raw-$i.wav" "$zh" </dev/null
    ffmpeg -nostdin -loglevel error -y -i "$work/raw-$i.wav" -ac 1 -ar 22050 \
      -af "apad=pad_dur=$PAUSE" "$work/seg-$i.wav"
    local speech total start end
    speech=$(dur "$work/raw-$i.wav"); total=$(dur "$work/seg-$i.wav")
    start=$t; end=$(awk -v a="$t" -v b="$speech" -v p="$PAUSE" 'BEGIN { print a + b + p / 2 }')
    t=$(awk -v a="$t" -v b="$total" 'BEGIN { print a + b }')
    slide_len[$slide]=$(awk -v a="${slide_len[$slide]:-0}" -v b="$total" 'BEGIN { print a + b }')
    printf '%d\n%s --> %s\n%s\n\n' "$i" "$(ts "$start")" "$(ts "$end")" "$zh" >>"$zhvtt"
    printf '%d\n%s --> %s\n%s\n\n' "$i" "$(ts "$start")" "$(ts "$end")" "$en" >>"$envtt"
    echo "file '$work/seg-$i.wav'" >>"$work/audio.txt"
  done 3<"$src/narration.tsv"
  ffmpeg -nostdin -loglevel error -y -f concat -safe 0 -i "$work/audio.txt" -c copy "$work/narration.wav"

  # 3. slide timeline (the concat demuxer needs the last file listed twice)
  : >"$work/slides.txt"
  for k in $(seq 1 "$n"); do
    printf "file '%s'\nduration %s\n" "$work/slide-$k.png" "${slide_len[$k]:-2}" >>"$work/slides.txt"
  done
  printf "file '%s'\n" "$work/slide-$n.png" >>"$work/slides.txt"

  # 4. encode
  ffmpeg -nostdin -loglevel error -y -f concat -safe 0 -i "$work/slides.txt" -i "$work/narration.wav" \
    -vf "fps=10,scale=640:360,format=yuv420p" -c:v libx264 -preset slow -tune stillimage -crf 30 \
    -c:a aac -b:a 48k -ac 1 -ar 22050 -shortest -movflags +faststart "$out/video.mp4"
  cp "$zhvtt" "$out/captions.zh.vtt"; cp "$envtt" "$out/captions.en.vtt"
  rm -rf "$work"

  local d size
  d=$(dur "$out/video.mp4"); size=$(stat -c %s "$out/video.mp4")
  echo "$slug: video.mp4 $size bytes, ${d}s (duration_seconds = $(awk -v d="$d" 'BEGIN { printf "%d", d + 0.5 }'))"
}

[ $# -ge 1 ] || { echo "usage: $0 <lesson-slug>..." >&2; exit 2; }
for slug in "$@"; do build "$slug"; done
