"""Speech made at test time with espeak-ng (no recordings ship): the command
grammar and phrases the speech tests and the benchmark share."""

from __future__ import annotations

import subprocess
from array import array

COMMAND_GRAMMAR = """#JSGF V1.0;
grammar commands;
public <command> = <action> the <device> | what time is it | what is the date | stop | play music | pause
    | next song | volume up | volume down | call mom | repeat that | good morning;
<action> = turn on | turn off | open | close;
<device> = light | radio | heater | door | window | fan;
"""

COMMANDS = [
    "turn on the light", "turn off the radio", "open the door", "close the window", "turn on the heater",
    "turn off the fan", "open the window", "close the door", "turn off the light", "turn on the radio",
    "turn off the heater", "turn on the fan", "what time is it", "what is the date", "stop", "play music",
    "pause", "next song", "volume up", "volume down", "call mom", "repeat that", "good morning", "open the heater",
]

# American voices: the en-us acoustic model's own accent, in four espeak-ng variants.
COMMAND_VOICES = ["en-us", "en-us+m3", "en-us+f3", "en-us+f4"]

DICTATION = [
    "the quarterly report shows strong growth in sales",
    "please send me the meeting notes tomorrow morning",
    "the weather will be cold and windy this weekend",
    "she bought three apples and a loaf of bread",
    "we need to finish the project before the end of the month",
    "the train to the city leaves at half past seven",
]


def speak(text: str, voice: str = "en-us", rate: int = 16000, pad_s: float = 0.0) -> array:
    """espeak-ng's speech of `text` as 16 kHz mono float32 (sox resamples), padded with silence."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    raw = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(rate), "-e", "floating-point", "-b", "32", "-c", "1", "-"],
        input=wav, capture_output=True, check=True,
    ).stdout
    pad = array("f", [0.0]) * int(pad_s * rate)
    out = array("f", pad)
    out.frombytes(raw)
    out.extend(pad)
    return out


def word_errors(reference: str, hypothesis: str) -> int:
    """Word-level edit distance (substitutions + insertions + deletions)."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)]
