/**
 * maxPythonProcesses is one ceiling over every CPython process of the gateway: its
 * trusted pool and its sandboxed pool (client code) together, spares included.
 * Before, each pool had the whole ceiling, so the gateway could run twice as many.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RemoteMediaError } from '../web/core/internal.ts';
import { startGateway } from './gateway.ts';
import { ProcessCeiling, type PythonProcess, PythonPool } from './python-process.ts';

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close();
});

describe('a process ceiling shared by two pools', () => {
  it('counts both pools; a pool with no room takes the room of the other pool’s spare, never more', async () => {
    const ceiling = new ProcessCeiling(2);
    const trusted = new PythonPool({ spares: 2, ceiling });
    const sandboxed = new PythonPool({ spares: 0, ceiling });
    opened.push(trusted, sandboxed);
    expect(trusted.running.length).toBe(2);
    const taken: PythonProcess[] = [sandboxed.take(), sandboxed.take()];
    expect(sandboxed.running.length).toBe(2);
    expect(trusted.running.length).toBe(0);
    expect(ceiling.used).toBe(2);
    let refusal: unknown;
    try {
      sandboxed.take();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RemoteMediaError);
    expect((refusal as RemoteMediaError).kind).toBe('limit');
    expect((refusal as RemoteMediaError).message).toContain(
      '3 asked, the ceiling is 2 (maxPythonProcesses',
    );
    expect(() => trusted.take()).toThrow(/maxPythonProcesses/);
    for (const process of taken) process.kill();
    // A killed process leaves the count when it has exited.
    await vi.waitFor(() => expect(ceiling.used).toBe(0));
    expect(trusted.take().alive).toBe(true);
  });

  it('is the gateway’s maxPythonProcesses over its trusted and sandboxed pools', async () => {
    const gateway = await startGateway({
      port: 0,
      tokens: ['ceiling-token-0123456789'],
      tokenSecret: 'a-secret-of-at-least-32-bytes-0123456789',
      containers: false,
      maxPythonProcesses: 2,
      python: { spares: 2 },
    });
    opened.push(gateway);
    expect(gateway.sandboxed).toBeDefined();
    const total = gateway.python.running.length + gateway.sandboxed!.running.length;
    expect(total).toBe(2);
    expect(gateway.python.available).toBe(2);
  });
});
