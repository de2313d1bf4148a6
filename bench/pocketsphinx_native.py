"""Native baseline of the recognition benchmark (bench/speech-recognition.bench.ts):
Debian's PocketSphinx (python3-pocketsphinx) called directly on the same 16-bit PCM
the browser decodes, fed in the same 100 ms pieces. Reads a JSON job on stdin
({"grammar": str | null, "files": [raw s16le paths], "rounds": n}); prints one JSON
line: {"init_ms": decoder and search set-up, "rounds": per round, per file, {"ms": decode
time, "hyp": text}}."""

import json
import os
import sys
import time

from pocketsphinx.pocketsphinx import Decoder

MODEL = "/usr/share/pocketsphinx/model/en-us"
PIECE = 3200  # bytes: 1600 samples, 100 ms at 16 kHz (SpeechToText's piece)


def main() -> None:
    job = json.load(sys.stdin)
    started = time.perf_counter()
    config = Decoder.default_config()
    config.set_string("-hmm", os.path.join(MODEL, "en-us"))
    config.set_string("-dict", os.path.join(MODEL, "cmudict-en-us.dict"))
    config.set_string("-logfn", os.devnull)
    if job["grammar"] is None:
        config.set_string("-lm", os.path.join(MODEL, "en-us.lm.bin"))
    decoder = Decoder(config)
    if job["grammar"] is not None:
        decoder.set_jsgf_string("grammar", job["grammar"])
        decoder.set_search("grammar")
    init_ms = (time.perf_counter() - started) * 1000
    audio = [open(path, "rb").read() for path in job["files"]]
    rounds = []
    for _ in range(job["rounds"]):
        runs = []
        for pcm in audio:
            started = time.perf_counter()
            decoder.start_stream()
            decoder.start_utt()
            for at in range(0, len(pcm), PIECE):
                decoder.process_raw(pcm[at : at + PIECE], False, False)
            decoder.end_utt()
            hyp = decoder.hyp()
            runs.append({"ms": (time.perf_counter() - started) * 1000, "hyp": hyp.hypstr if hyp else ""})
        rounds.append(runs)
    print(json.dumps({"init_ms": init_ms, "rounds": rounds}))


main()
