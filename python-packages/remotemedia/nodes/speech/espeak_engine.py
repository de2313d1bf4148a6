"""espeak-ng (Debian's `espeak-ng`, GPL-3.0-or-later, run as a separate program,
never linked) as a synthesis engine: one `espeak-ng --stdout` subprocess per text
piece, its WAV read as it is written, so audio leaves before the piece is done."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Iterator, Optional

from .engines import SpeechEngineError, Synthesizer

_VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\+[A-Za-z0-9_-]+)?$")
READ_BYTES = 4096  # about 93 ms of 22.05 kHz 16-bit audio per read


class EspeakNgSynthesizer(Synthesizer):
    sample_rate = 22050

    def __init__(self, voice: str = "en-us", rate: int = 175, pitch: int = 50, program: Optional[str] = None) -> None:
        if not isinstance(voice, str) or not _VOICE.match(voice):
            raise SpeechEngineError(
                f"voice: {voice!r} is not an espeak-ng voice name such as 'en-us', 'en' or 'en-us+f3' (espeak-ng --voices)"
            )
        self.program = program or shutil.which("espeak-ng") or "/usr/bin/espeak-ng"
        if shutil.which(self.program) is None:
            raise SpeechEngineError(f"engine 'espeak-ng' is not installed on this host: apt-get install espeak-ng")
        self.voice, self.rate, self.pitch = voice, rate, pitch
        self._process: Optional[subprocess.Popen] = None
        self._interrupted = False  # set by interrupt(), from any thread
        # An unknown voice fails here, once, rather than on the first text.
        check = subprocess.run(
            [self.program, "-v", voice, "-q", "x"], capture_output=True, timeout=10, stdin=subprocess.DEVNULL
        )
        if check.returncode != 0:
            raise SpeechEngineError(
                f"voice: espeak-ng has no voice {voice!r} ({check.stderr.decode(errors='replace').strip()}); "
                "see `espeak-ng --voices` and `espeak-ng --voices=variant`"
            )

    def synthesize(self, text: str) -> Iterator[bytes]:
        """PCM pieces of one text (which the node keeps short: it fits a pipe's buffer)."""
        self._interrupted = False
        process = subprocess.Popen(
            [self.program, "-v", self.voice, "-s", str(self.rate), "-p", str(self.pitch), "--stdout", "--stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._process = process
        try:
            process.stdin.write(text.encode("utf-8"))
            process.stdin.close()
            header = b""
            start = -1
            while start < 0 or len(header) < start + 8:  # the WAV header, up to its data chunk
                chunk = process.stdout.read1(READ_BYTES)
                if not chunk:
                    break
                header += chunk
                start = header.find(b"data")
            if self._interrupted:
                return
            if start < 0 or len(header) < start + 8:
                process.wait()
                raise SpeechEngineError(f"espeak-ng wrote no audio: {process.stderr.read().decode(errors='replace')}")
            pending = header[start + 8 :]
            while True:
                chunk = process.stdout.read1(READ_BYTES)
                if not chunk:
                    break
                pending += chunk
                whole = len(pending) - len(pending) % 2
                if whole:
                    yield pending[:whole]
                    pending = pending[whole:]
            if process.wait() != 0 and not self._interrupted:
                raise SpeechEngineError(f"espeak-ng failed: {process.stderr.read().decode(errors='replace').strip()}")
        finally:
            # Closed early (the consumer stopped): the program must not go on writing.
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                stream.close()
            self._process = None

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def interrupt(self) -> None:
        # Killing the program ends its output: synthesize sees the end and returns.
        self._interrupted = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
