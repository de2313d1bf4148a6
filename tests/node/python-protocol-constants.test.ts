import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GATEWAY_ACK_EVERY,
  GATEWAY_HEARTBEAT_MAX_MS,
  GATEWAY_HEARTBEAT_MIN_MS,
  GATEWAY_HEARTBEAT_TEXT,
  GATEWAY_MORE_PARTS,
  GATEWAY_PORT_MASK,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
} from '../../web/core/gateway-protocol.ts';

/**
 * The gateway protocol is defined once, in web/core/gateway-protocol.ts. Python
 * cannot import it, so the Python client keeps copies in one module
 * (remotemedia/remote/protocol.py): this test fails when they drift, and when
 * another Python file types one of them again instead of importing it.
 */
describe('the Python client’s gateway protocol constants', () => {
  it('equal the TypeScript definition', () => {
    const printed = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json\nfrom remotemedia.remote import protocol as p\n' +
          'print(json.dumps({"version": p.PROTOCOL_VERSION, "window": p.WINDOW, "ackEvery": p.ACK_EVERY, ' +
          '"moreParts": p.MORE_PARTS, "portMask": p.PORT_MASK, "heartbeat": p.HEARTBEAT_TEXT, ' +
          '"heartbeatMinMs": p.HEARTBEAT_MIN_MS, "heartbeatMaxMs": p.HEARTBEAT_MAX_MS}))',
      ],
      { cwd: 'python-packages' },
    ).toString();
    expect(JSON.parse(printed)).toEqual({
      version: GATEWAY_PROTOCOL_VERSION,
      window: GATEWAY_WINDOW,
      ackEvery: GATEWAY_ACK_EVERY,
      moreParts: GATEWAY_MORE_PARTS,
      portMask: GATEWAY_PORT_MASK,
      heartbeat: GATEWAY_HEARTBEAT_TEXT,
      heartbeatMinMs: GATEWAY_HEARTBEAT_MIN_MS,
      heartbeatMaxMs: GATEWAY_HEARTBEAT_MAX_MS,
    });
  });

  it('are typed in protocol.py only', () => {
    const root = 'python-packages/remotemedia';
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? files(join(dir, entry.name))
          : entry.name.endsWith('.py')
            ? [join(dir, entry.name)]
            : [],
      );
    const retyped = files(root)
      .filter((file) => file !== join(root, 'remote', 'protocol.py'))
      .filter((file) =>
        // Constants are upper case (a local `window = …` is not one); hex in either case.
        /\b(PROTOCOL_VERSION|WINDOW|ACK_EVERY|MORE_PARTS|MORE|PORT_MASK|HEARTBEAT_TEXT|HEARTBEAT_MIN_MS|HEARTBEAT_MAX_MS)\s*=(?!=)|"type":"heartbeat"|0x8000\b|0x7fff\b|0x7FFF\b/.test(
          readFileSync(file, 'utf8'),
        ),
      );
    expect(retyped).toEqual([]);
  });
});

/**
 * The node-runner protocol (gateway <-> `python3 -m remotemedia.node_runner`): its
 * op and status numbers live once on each side, in remote-gateway/runner-pipe.ts and
 * remotemedia/node_runner.py; this fails when they drift.
 */
describe('the node runner’s protocol numbers', () => {
  it('equal on both sides', async () => {
    const pipe = await import('../../remote-gateway/runner-pipe.ts');
    const names = [
      'OP_CREATE',
      'OP_PROCESS',
      'OP_FLUSH',
      'OP_CLEANUP',
      'OP_CANCEL',
      'STATUS_OK',
      'STATUS_ERROR',
      'STATUS_MORE',
    ] as const;
    const printed = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `import json\nfrom remotemedia import node_runner as r\nprint(json.dumps({n: getattr(r, n) for n in ${JSON.stringify(names)}}))`,
      ],
      { cwd: 'python-packages' },
    ).toString();
    expect(JSON.parse(printed)).toEqual(Object.fromEntries(names.map((n) => [n, pipe[n]])));
    // Distinct numbers, or one would be read as another.
    expect(new Set(names.filter((n) => n.startsWith('OP_')).map((n) => pipe[n])).size).toBe(5);
  });
});
