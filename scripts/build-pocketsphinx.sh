#!/usr/bin/env bash
# Builds PocketSphinx for the browser (SpeechToText's engine in the pipeline worker):
# Debian bookworm's pocketsphinx + sphinxbase 0.8+5prealpha sources, compiled with
# Debian's emscripten 3.1.6, linked with wasm-nodes/pocketsphinx/glue.c into an ES
# module + wasm that a module worker (and Node, for the tests) loads. Run by
# `npm run build:wasm` (scripts/build-wasm.mjs); scripts/setup.sh installs the tools.
#
# Output: the runtime's `pocketsphinx/` assets folder, ready to serve
# (web/vite/vite-plugin.ts lists these files; the model is Debian's pocketsphinx-en-us):
#   wasm-nodes/build/pocketsphinx/
#     pocketsphinx.mjs          ES module; default export createPocketSphinx(moduleArgs)
#     pocketsphinx.wasm         found beside the .mjs (import.meta.url)
#     LICENSE                   PocketSphinx's and SphinxBase's (BSD-2-Clause, CMU)
#     model/en-us/              the acoustic model: README (its licence), feat.params,
#                               mdef, means, noisedict, sendump, transition_matrices, variances
#     model/cmudict-en-us.dict  the pronunciation dictionary (grammar and keyword modes)
#     model/en-us.lm.bin        the dictation language model (27 MB: fetch only for dictation)
# Exported: every EMSCRIPTEN_KEEPALIVE function of glue.c, _malloc, _free; runtime
# FS, ccall, cwrap, UTF8ToString, stringToUTF8, lengthBytesUTF8 and the HEAP views.
#
# Cache: the static libraries stay in wasm-nodes/build/pocketsphinx-src/ (or
# $POCKETSPHINX_CACHE), so a change to glue.c only relinks (seconds); nothing is
# done when the outputs are newer than glue.c and this script. From scratch about
# 2 minutes on 2 cores. The system's apt configuration is not touched: the source
# packages come through a private deb-src list in the cache folder (from
# deb.debian.org, or $POCKETSPHINX_DEBIAN_MIRROR: a Debian mirror's URL).
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."

OUT=wasm-nodes/build/pocketsphinx
CACHE=${POCKETSPHINX_CACHE:-wasm-nodes/build/pocketsphinx-src}
GLUE=wasm-nodes/pocketsphinx/glue.c
PRE=scripts/build-pocketsphinx.pre.js
MODEL=/usr/share/pocketsphinx/model/en-us
MIRROR=${POCKETSPHINX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ACOUSTIC=(README feat.params mdef means noisedict sendump transition_matrices variances)
# What the static libraries were built with: a change here rebuilds them.
LIBS_KEY="bookworm pocketsphinx+sphinxbase 0.8+5prealpha; CFLAGS=-O2; --disable-shared --without-python --without-lapack"

fail() {
  echo "build-pocketsphinx: $*" >&2
  exit 1
}
need() { # a command and the Debian package that has it
  command -v "$1" >/dev/null || fail "'$1' not found: install Debian's $2 (apt-get install $2, or run: npm run setup)"
}
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
kb() { awk -v n="$1" 'BEGIN { printf "%.0f kB", n / 1000 }'; }
# A step's output goes to its log; on failure the log's tail is shown.
logged() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    fail "failed: $* (whole log: $log)"
  }
}

# One build at a time (npm test, a helper's relink and the tests may start it at once):
# a second run waits, then finds the first one's outputs up to date.
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9

[ -d "$MODEL/en-us" ] || fail "$MODEL/en-us not found: install Debian's pocketsphinx-en-us"
[ -f "$GLUE" ] || fail "$GLUE not found"
[ -f "$PRE" ] || fail "$PRE not found"

# The model: copied with its dates, so an unchanged file is never rewritten.
mkdir -p "$OUT/model/en-us"
for f in "${ACOUSTIC[@]}"; do cp -pu "$MODEL/en-us/$f" "$OUT/model/en-us/$f"; done
cp -pu "$MODEL/cmudict-en-us.dict" "$MODEL/en-us.lm.bin" "$OUT/model/"

newer() { # every output newer than every input
  local out src
  for out in "$OUT/pocketsphinx.mjs" "$OUT/pocketsphinx.wasm"; do
    for src in "$GLUE" "$PRE" "$SELF"; do [ "$out" -nt "$src" ] || return 1; done
  done
  [ -f "$OUT/LICENSE" ]
}
if newer; then
  echo "pocketsphinx: up to date ($OUT/)"
  exit 0
fi

need emcc emscripten
need emconfigure emscripten
need bison bison
need make make
need dpkg-source dpkg-dev
need apt-get apt
# Debian's emscripten 3.1.6 under a Node that is not Debian's: it finds node-acorn
# only through NODE_PATH, and its loader's fetch() of file paths fails under Node >= 18.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
# Under npm, PATH starts with node_modules/.bin, where npm's binaryen (wasm-opt and
# friends, a newer version) would stand in for Debian's: the module it links then
# fails to instantiate (LinkError). Debian's tools only.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/node_modules/\.bin$' | paste -sd: -)
export PATH
export NODE_OPTIONS="--no-experimental-fetch${NODE_OPTIONS:+ $NODE_OPTIONS}"

started=$(now)
libs_note="libs cached"
SB=$CACHE/sb/src/libsphinxbase/.libs/libsphinxbase.a
PS=$CACHE/ps/src/libpocketsphinx/.libs/libpocketsphinx.a
if [ "$(cat "$CACHE/libs.done" 2>/dev/null)" != "$LIBS_KEY" ] || [ ! -f "$SB" ] || [ ! -f "$PS" ]; then
  echo "pocketsphinx: building the static libraries from Debian's sources (about 2 minutes)"
  rm -rf "$CACHE"
  mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial"
  W=$(cd "$CACHE" && pwd)
  # configure runs its test programs as emscripten's .js under node; inside this repo
  # node would take them for ES modules (package.json "type": "module") and fail.
  echo '{ "type": "commonjs" }' >"$W/package.json"
  echo "deb-src $MIRROR bookworm main" >"$W/apt/sources.list"
  APT=(-o "Dir::Etc::SourceList=$W/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$W/apt/lists" -o "Dir::Cache=$W/apt/cache")
  logged "$W/apt-update.log" apt-get -q "${APT[@]}" update
  (cd "$W" && logged "$W/apt-source.log" apt-get -q "${APT[@]}" source --download-only pocketsphinx sphinxbase)
  (cd "$W" && logged "$W/sb-extract.log" dpkg-source -x sphinxbase_*.dsc sb &&
    logged "$W/ps-extract.log" dpkg-source -x pocketsphinx_*.dsc ps)
  # Debian's patches touch configure.ac and m4/: make would then rerun automake 1.13,
  # which is not installed. The shipped configure is fine: date everything in order.
  for d in sb ps; do
    (cd "$W/$d" && touch aclocal.m4 && sleep 1 && touch configure && sleep 1 &&
      find . \( -name Makefile.in -o -name '*.h.in' \) -exec touch {} +)
  done
  NOAUTO=(ACLOCAL=true AUTOCONF=true AUTOMAKE=true AUTOHEADER=true)
  jobs=$(nproc 2>/dev/null || echo 1)
  (cd "$W/sb" &&
    logged ../sb-configure.log nice -n 19 emconfigure ./configure -q CFLAGS=-O2 \
      --disable-shared --without-lapack --without-python && touch config.status &&
    logged ../sb-make.log nice -n 19 emmake make -s -j"$jobs" -C src/libsphinxbase "${NOAUTO[@]}")
  (cd "$W/ps" &&
    logged ../ps-configure.log nice -n 19 emconfigure ./configure -q CFLAGS=-O2 \
      --disable-shared --without-python "--with-sphinxbase=$W/sb" && touch config.status &&
    logged ../ps-make.log nice -n 19 emmake make -s -j"$jobs" -C src/libpocketsphinx "${NOAUTO[@]}")
  [ -f "$SB" ] && [ -f "$PS" ] || fail "the static libraries were not made (logs in $W/)"
  # Only the libraries, their headers and the licences are used from here on.
  rm -rf "$W"/*.tar.* "$W/ps/model"
  echo "$LIBS_KEY" >"$CACHE/libs.done"
  libs_note="libs built in $(since "$started") s"
fi

# Every EMSCRIPTEN_KEEPALIVE function of the glue, whatever H1b's API is today.
exported=$(sed -nE 's/^EMSCRIPTEN_KEEPALIVE[^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/_\1/p' "$GLUE" |
  sort -u | paste -sd, -)
[ -n "$exported" ] || fail "$GLUE has no EMSCRIPTEN_KEEPALIVE function"
RUNTIME="FS,ccall,cwrap,UTF8ToString,stringToUTF8,lengthBytesUTF8,HEAP8,HEAPU8,HEAP16,HEAP32,HEAPF32"

linked=$(now)
TMP=$(mktemp -d "$OUT/.link-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
logged "$CACHE/link.log" nice -n 19 emcc -O3 "$GLUE" \
  -I"$CACHE/ps/include" -I"$CACHE/sb/include" -I"$CACHE/sb/include/sphinxbase" "$PS" "$SB" \
  -sEXPORT_ES6=1 -sMODULARIZE=1 -sEXPORT_NAME=createPocketSphinx \
  -sENVIRONMENT=web,worker,node -sFORCE_FILESYSTEM=1 -sALLOW_MEMORY_GROWTH=1 \
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 --pre-js "$PRE" \
  "-sEXPORTED_FUNCTIONS=$exported,_malloc,_free" "-sEXPORTED_RUNTIME_METHODS=$RUNTIME" \
  -o "$TMP/pocketsphinx.mjs"
cat "$CACHE/ps/LICENSE" >"$TMP/LICENSE"
printf '\n--- SphinxBase ---\n\n' >>"$TMP/LICENSE"
cat "$CACHE/sb/LICENSE" >>"$TMP/LICENSE"
mv -f "$TMP/pocketsphinx.wasm" "$TMP/pocketsphinx.mjs" "$TMP/LICENSE" "$OUT/"

wasm=$(stat -c %s "$OUT/pocketsphinx.wasm")
wasm_gz=$(gzip -c "$OUT/pocketsphinx.wasm" | wc -c)
mjs=$(stat -c %s "$OUT/pocketsphinx.mjs")
model=$(du -sb "$OUT/model" | cut -f1)
echo "pocketsphinx: $libs_note, linked in $(since "$linked") s (total $(since "$started") s):" \
  "pocketsphinx.wasm $(kb "$wasm") ($(kb "$wasm_gz") gzip'd), pocketsphinx.mjs $(kb "$mjs"), model $(kb "$model") -> $OUT/"
