/**
 * The machine's floor under a ring hop: two workers pass a counter back and forth
 * on one shared Int32Array, with no ring, no copy and no allocation, waiting in one
 * of three ways. "spin": load until it moves (the cost of moving a cache line
 * between cores, if each worker has a core); "wait": Atomics.wait at once, the
 * other side Atomics.notify (one futex wake-up a hop); "waitAsync": the same
 * through Atomics.waitAsync (a task on the woken thread's event loop). The spin
 * gives up after 100 ms so that a run on an overloaded machine still ends.
 */
type Mode = 'spin' | 'wait' | 'waitAsync';

interface FloorJob {
  buffer: SharedArrayBuffer;
  /** 0 starts each round trip, 1 answers. */
  side: 0 | 1;
  mode: Mode;
  rounds: number;
  batch: number;
}

self.onmessage = async (event: MessageEvent<FloorJob>) => {
  const { buffer, side, mode, rounds, batch } = event.data;
  const counters = new Int32Array(buffer);
  // Each side's counter on a cache line of its own (16 Int32 slots apart).
  const mine = side === 0 ? 0 : 16;
  const theirs = side === 0 ? 16 : 0;
  let count = 0;
  const waitFor = async (value: number) => {
    if (mode === 'spin') {
      const giveUp = performance.now() + 100;
      while (Atomics.load(counters, theirs) !== value) {
        if (performance.now() > giveUp) break;
      }
    }
    while (Atomics.load(counters, theirs) !== value) {
      if (mode === 'waitAsync') {
        const waiting = Atomics.waitAsync(counters, theirs, value - 1);
        if (waiting.async) await waiting.value;
      } else {
        // In "spin" the other side never notifies: a spin that gave up sleeps 1 ms
        // at a time and looks again. Untimed, a side whose spin gave up (its peer
        // not yet started, or descheduled, for 100 ms) slept for ever, and then its
        // peer too: the rings bench hung with both workers asleep.
        Atomics.wait(counters, theirs, value - 1, mode === 'spin' ? 1 : undefined);
      }
    }
  };
  const hops: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) {
      count++;
      if (side === 1) await waitFor(count);
      Atomics.store(counters, mine, count);
      if (mode !== 'spin') Atomics.notify(counters, mine);
      if (side === 0) await waitFor(count);
    }
    hops.push(((performance.now() - started) * 1000) / batch / 2);
  }
  self.postMessage({ hops });
};
