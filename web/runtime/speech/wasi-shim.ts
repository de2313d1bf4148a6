/**
 * The few WASI preview-1 calls a command-line program compiled to WASI needs to run
 * once in a worker: its argv, a clock, stdout/stderr captured as text, and an
 * in-memory folder where it writes its output files. Written for flite.wasm (its
 * imports are exactly these); no file is read, no network, no real file system.
 * Errors are WASI errno values, as a libc expects them.
 */

const ESUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOENT = 44;
const ENOTSUP = 58;

/** Thrown by proc_exit to unwind out of `_start`; carries the exit code. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface OpenFile {
  path: string;
  data: Uint8Array;
  size: number;
  position: number;
}

export interface WasiRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Files the program wrote, by the path it opened them with. */
  files: Map<string, Uint8Array>;
}

/** The only preopened folder; the program's output paths must be under it. */
export const WASI_OUT_DIR = '/out';
const PREOPEN_FD = 3;

/** Instantiates `module` with a fresh shim and runs its `_start` with `args`. */
export async function runWasiCommand(
  module: WebAssembly.Module,
  args: readonly string[],
): Promise<WasiRun> {
  // The instance's memory, known once it is instantiated (the imports are made before).
  const instanceOf: { memory?: WebAssembly.Memory } = {};
  const mem = () => new DataView(instanceOf.memory!.buffer);
  const bytes = () => new Uint8Array(instanceOf.memory!.buffer);
  const encoder = new TextEncoder();
  const argv = args.map((a) => encoder.encode(`${a}\0`));
  const out: [string, string] = ['', ''];
  const decoders = [new TextDecoder(), new TextDecoder()];
  const fds = new Map<number, OpenFile>();
  const files = new Map<string, Uint8Array>();
  let nextFd = PREOPEN_FD + 1;

  const write = (file: OpenFile, chunk: Uint8Array) => {
    const end = file.position + chunk.length;
    if (end > file.data.length) {
      const grown = new Uint8Array(Math.max(end, file.data.length * 2));
      grown.set(file.data.subarray(0, file.size));
      file.data = grown;
    }
    file.data.set(chunk, file.position);
    file.position = end;
    file.size = Math.max(file.size, end);
  };

  const wasi = {
    args_sizes_get(countPtr: number, sizePtr: number) {
      mem().setUint32(countPtr, argv.length, true);
      mem().setUint32(
        sizePtr,
        argv.reduce((n, a) => n + a.length, 0),
        true,
      );
      return ESUCCESS;
    },
    args_get(argvPtr: number, bufPtr: number) {
      let at = bufPtr;
      argv.forEach((arg, i) => {
        mem().setUint32(argvPtr + 4 * i, at, true);
        bytes().set(arg, at);
        at += arg.length;
      });
      return ESUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number) {
      mem().setBigUint64(timePtr, BigInt(Math.round(performance.now() * 1e6)), true);
      return ESUCCESS;
    },
    fd_close(fd: number) {
      const file = fds.get(fd);
      if (!file) return fd <= 2 ? ESUCCESS : EBADF;
      files.set(file.path, file.data.slice(0, file.size));
      fds.delete(fd);
      return ESUCCESS;
    },
    fd_fdstat_get(fd: number, statPtr: number) {
      if (fd > 2 && fd !== PREOPEN_FD && !fds.has(fd)) return EBADF;
      const view = mem();
      view.setUint8(statPtr, fd <= 2 ? 2 : fd === PREOPEN_FD ? 3 : 4); // chardev, dir, file
      view.setUint16(statPtr + 2, 0, true);
      view.setBigUint64(statPtr + 8, 0xffffffffn, true); // every right
      view.setBigUint64(statPtr + 16, 0xffffffffn, true);
      return ESUCCESS;
    },
    fd_fdstat_set_flags() {
      return ESUCCESS;
    },
    fd_prestat_get(fd: number, prestatPtr: number) {
      if (fd !== PREOPEN_FD) return EBADF;
      mem().setUint8(prestatPtr, 0); // a directory
      mem().setUint32(prestatPtr + 4, WASI_OUT_DIR.length, true);
      return ESUCCESS;
    },
    fd_prestat_dir_name(fd: number, pathPtr: number, length: number) {
      if (fd !== PREOPEN_FD) return EBADF;
      bytes().set(encoder.encode(WASI_OUT_DIR).subarray(0, length), pathPtr);
      return ESUCCESS;
    },
    fd_read(fd: number, _iovs: number, _count: number, readPtr: number) {
      if (fd !== 0) return fds.has(fd) ? ENOTSUP : EBADF;
      mem().setUint32(readPtr, 0, true); // stdin is empty
      return ESUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newPtr: number) {
      const file = fds.get(fd);
      if (!file) return fd <= 2 ? ENOTSUP : EBADF;
      const base = whence === 0 ? 0 : whence === 1 ? file.position : file.size;
      const position = base + Number(offset);
      if (position < 0) return EINVAL;
      file.position = position;
      mem().setBigUint64(newPtr, BigInt(position), true);
      return ESUCCESS;
    },
    fd_write(fd: number, iovs: number, count: number, writtenPtr: number) {
      const view = mem();
      let written = 0;
      for (let i = 0; i < count; i++) {
        const ptr = view.getUint32(iovs + 8 * i, true);
        const len = view.getUint32(iovs + 8 * i + 4, true);
        const chunk = bytes().slice(ptr, ptr + len);
        if (fd === 1 || fd === 2) out[fd - 1] += decoders[fd - 1]!.decode(chunk, { stream: true });
        else {
          const file = fds.get(fd);
          if (!file) return EBADF;
          write(file, chunk);
        }
        written += len;
      }
      view.setUint32(writtenPtr, written, true);
      return ESUCCESS;
    },
    path_open(
      dirFd: number,
      _dirFlags: number,
      pathPtr: number,
      pathLen: number,
      openFlags: number,
      _rights: bigint,
      _inheriting: bigint,
      _fdFlags: number,
      fdPtr: number,
    ) {
      if (dirFd !== PREOPEN_FD) return EBADF;
      const path = new TextDecoder().decode(bytes().slice(pathPtr, pathPtr + pathLen));
      const O_CREAT = 1;
      const existing = files.get(path);
      if (!(openFlags & O_CREAT) && !existing) return ENOENT;
      const truncate = (openFlags & 8) !== 0;
      const data = existing && !truncate ? existing.slice() : new Uint8Array(1 << 16);
      const fd = nextFd++;
      fds.set(fd, { path, data, size: existing && !truncate ? existing.length : 0, position: 0 });
      mem().setUint32(fdPtr, fd, true);
      return ESUCCESS;
    },
    proc_exit(code: number): never {
      throw new WasiExit(code);
    },
  };

  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi });
  instanceOf.memory = instance.exports.memory as WebAssembly.Memory;
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (error) {
    if (!(error instanceof WasiExit)) throw error;
    exitCode = error.code;
  }
  // A program that exits without closing its files still wrote them.
  for (const file of fds.values()) files.set(file.path, file.data.slice(0, file.size));
  return { exitCode, stdout: out[0], stderr: out[1], files };
}
