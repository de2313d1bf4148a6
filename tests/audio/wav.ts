/** Minimal WAV reading and writing for tests and benchmarks (PCM16 and float32). */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Wav {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

export function writeWavFloat32(path: string, { samples, sampleRate, channels }: Wav): void {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(3, 20); // IEEE float
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 4, 28);
  header.writeUInt16LE(channels * 4, 32);
  header.writeUInt16LE(32, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

export function readWav(path: string): Wav {
  const file = readFileSync(path);
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path} is not a WAV file`);
  }
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= file.length;) {
    const id = file.toString('ascii', at, at + 4);
    const size = file.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      format = file.readUInt16LE(body);
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
      bits = file.readUInt16LE(body + 14);
      if (format === 0xfffe) format = file.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE
    } else if (id === 'data') {
      const end = Math.min(file.length, body + size);
      const bytes = file.subarray(body, end);
      let samples: Float32Array;
      if (format === 3 && bits === 32) {
        samples = new Float32Array(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        );
      } else if (format === 1 && bits === 16) {
        samples = new Float32Array(bytes.length / 2);
        for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2) / 32768;
      } else {
        throw new Error(`${path}: unsupported WAV format ${format} with ${bits} bits`);
      }
      return { samples, sampleRate, channels };
    }
    at = body + size + (size % 2);
  }
  throw new Error(`${path} has no data chunk`);
}
