"""Reference Whisper log-mel spectrogram in numpy (float64), for the LogMel test.

Follows whisper/audio.py: torch.stft(center=True, reflect padding, periodic Hann),
last frame dropped, power spectrum, librosa.filters.mel(sr=16000, n_fft=400, n_mels)
(Slaney scale, area-normalised), log10 clamped at 1e-10, then max - 8 and (x + 4) / 4.
Usage: whisper_log_mel.py <input.f32> <output.f32> <n_mels>
"""
import sys

import numpy as np

SAMPLE_RATE, N_FFT, HOP = 16000, 400, 160


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    mels = f / f_sp
    log_t = f >= min_log_hz
    mels[log_t] = min_log_hz / f_sp + np.log(f[log_t] / min_log_hz) / (np.log(6.4) / 27.0)
    return mels


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel = min_log_hz / f_sp
    freqs = f_sp * m
    log_t = m >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(np.log(6.4) / 27.0 * (m[log_t] - min_log_mel))
    return freqs


def mel_filters(n_mels):
    fftfreqs = np.fft.rfftfreq(n=N_FFT, d=1.0 / SAMPLE_RATE)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(np.array([0.0]))[0], hz_to_mel(np.array([SAMPLE_RATE / 2.0]))[0], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    return weights * enorm[:, np.newaxis]


def log_mel(x, n_mels):
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    count = 1 + (len(padded) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2
    mel = mel_filters(n_mels) @ power[:-1].T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


if __name__ == "__main__":
    samples = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64)
    log_mel(samples, int(sys.argv[3])).astype(np.float32).tofile(sys.argv[2])
