/**
 * Whisper's front end, as constants: a periodic Hann window folded into a DFT basis,
 * and the Slaney-style mel filterbank librosa.filters.mel(sr, n_fft, n_mels) builds
 * (Slaney mel scale, area-normalised triangles), which Whisper ships precomputed.
 */

export const WHISPER_SAMPLE_RATE = 16000;
export const WHISPER_N_FFT = 400;
export const WHISPER_HOP = 160;

/** bins rows of cos(2 pi k n / N) * hann[n], then bins rows of sin(...) * hann[n]. */
export function windowedDftBasis(nfft: number): Float32Array {
  const bins = nfft / 2 + 1;
  const basis = new Float32Array(2 * bins * nfft);
  for (let k = 0; k < bins; k++) {
    for (let n = 0; n < nfft; n++) {
      const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nfft); // periodic, as torch.hann_window
      const angle = (2 * Math.PI * ((k * n) % nfft)) / nfft;
      basis[k * nfft + n] = Math.cos(angle) * hann;
      basis[(bins + k) * nfft + n] = -Math.sin(angle) * hann;
    }
  }
  return basis;
}

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

function melToHz(mel: number): number {
  return mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

/** nMels rows of (nfft / 2 + 1) weights, row-major; fmax defaults to Nyquist. */
export function melFilterbank(
  sampleRate: number,
  nfft: number,
  nMels: number,
  fmin = 0,
  fmax = sampleRate / 2,
): Float32Array {
  const bins = nfft / 2 + 1;
  const fftFreqs = Array.from({ length: bins }, (_, i) => (i * sampleRate) / nfft);
  const minMel = hzToMel(fmin);
  const maxMel = hzToMel(fmax);
  const melF = Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(minMel + ((maxMel - minMel) * i) / (nMels + 1)),
  );
  const weights = new Float32Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const enorm = 2 / (melF[m + 2]! - melF[m]!);
    for (let b = 0; b < bins; b++) {
      const lower = (fftFreqs[b]! - melF[m]!) / (melF[m + 1]! - melF[m]!);
      const upper = (melF[m + 2]! - fftFreqs[b]!) / (melF[m + 2]! - melF[m + 1]!);
      weights[m * bins + b] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return weights;
}
