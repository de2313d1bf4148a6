/**
 * A TCP relay whose connections a test cuts: both ends see the TCP stream die with
 * no WebSocket close, as when a network drops (resume and cluster tests).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class Relay {
  readonly sockets = new Set<Socket>();
  /** Each relayed direction: from, to. */
  private readonly pairs = new Set<readonly [Socket, Socket]>();
  /** Where new connections go: a test may move it (a balancer sending to another gateway). */
  target = 0;
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<Relay> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relay = new Relay(server, (server.address() as { port: number }).port);
    relay.target = target;
    server.on('connection', (client) => {
      const upstream = createConnection(relay.target, '127.0.0.1');
      for (const pair of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        const [a, b] = pair;
        a.pipe(b);
        relay.pairs.add(pair);
        a.on('close', () => relay.pairs.delete(pair));
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
        relay.sockets.add(a);
        a.on('close', () => relay.sockets.delete(a));
      }
    });
    return relay;
  }

  /**
   * Stops relaying on every open connection, both ways, and keeps it open: what the
   * clients of a paused gateway (SIGSTOP) see — silence on a live TCP connection.
   * New connections are relayed as before.
   */
  freeze(): void {
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      a.pause();
    }
  }

  /** Cuts every connection: both ends see the TCP stream die, no WebSocket close. */
  cut(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
