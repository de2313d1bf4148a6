"""The original RemoteMedia's speech chain ("Example: Hybrid Remote Execution
Pipeline" in its remote-execution spec): recognition runs here, synthesis on a
gateway through RemoteObjectExecutionNode.

    REMOTEMEDIA_GATEWAY_URL=ws://127.0.0.1:8765 REMOTEMEDIA_GATEWAY_TOKEN=... \\
        python3 examples/speech_chain.py speech.wav reply.wav

(run with python-packages on PYTHONPATH, or with the package installed). It is the
original's code with what it needs to run here, each marked "Added:":
- the imports of WhisperNode and TTSNode, which the original's snippet leaves out;
- an input: the original calls pipeline.run() with none, but its first node is
  recognition, which needs speech: an AudioSource reading a WAV file, whole, and
  a Resample to the 16 kHz recognition takes;
- the gateway's address from the environment, and its token (this gateway needs one);
- `await` (the original's run() is a coroutine too), and writing the audio out.

WhisperNode and TTSNode are the original's names over the engines that ship here:
no Whisper or Bark weights reach this project, so recognition is PocketSphinx
(dictation, which gets many words wrong) and synthesis espeak-ng; each says so in
the log (remotemedia/nodes/original.py)."""

import asyncio
import os
import sys
from urllib.parse import urlsplit

from remotemedia import Pipeline, RemoteExecutorConfig, RemoteObjectExecutionNode
from remotemedia.nodes import TTSNode, WhisperNode  # Added: the original's snippet does not import them
from remotemedia.nodes.audio import AudioSource, Resample, audio_chunks, write_wav  # Added

speech_wav, reply_wav = sys.argv[1], sys.argv[2]  # Added
gateway = urlsplit(os.environ.get("REMOTEMEDIA_GATEWAY_URL", "ws://127.0.0.1:8765"))  # Added


async def main():  # Added: run() is awaited
    remote = RemoteExecutorConfig(
        host=gateway.hostname, port=gateway.port,
        token=os.environ.get("REMOTEMEDIA_GATEWAY_TOKEN"),  # Added: this gateway needs a token
    )

    # A local ASR node
    asr = WhisperNode(model="tiny.en")

    # Remote TTS node
    remote_tts = RemoteObjectExecutionNode(
        obj_to_execute=TTSNode(model="bark"),
        remote_config=remote,
        name="TTSRemote"
    )

    pipeline = Pipeline("speech_chain")
    pipeline.add_node(AudioSource(name="speech", path=speech_wav, chunk_ms=3_600_000))  # Added: the input, whole
    pipeline.add_node(Resample(name="to16k", target_rate=16000))  # Added: recognition takes 16 kHz
    pipeline.add_node(asr)
    pipeline.add_node(remote_tts)
    result = await pipeline.run()

    # Added: what was heard, and what the gateway said back.
    heard = [item.payload["text"] for item in audio_chunks_or_events(result) if item.kind == "event"]
    frames, rate, _ = write_wav(reply_wav, result)
    print(f"heard: {' / '.join(t for t in heard if t)!r}")
    print(f"reply: {frames / rate:.2f} s at {rate} Hz in {reply_wav} ({len(audio_chunks(result))} chunks)")
    print(f"ran: {pipeline.last_run[0]} ({pipeline.last_run[1]})")


def audio_chunks_or_events(items):  # Added: the remote node answers an input's outputs as one list
    for item in items:
        if isinstance(item, list):
            yield from audio_chunks_or_events(item)
        elif getattr(item, "kind", None) in ("audio", "event"):
            yield item


asyncio.run(main())
