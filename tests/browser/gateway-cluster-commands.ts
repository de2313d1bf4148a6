/**
 * Browser commands (they run in the test server's Node process) that give a
 * browser test a real gateway fleet behind nginx (remote-gateway/testing/
 * gateway-fleet.ts): the page reaches it through nginx's one URL, as a deployed app
 * would, and can have the gateway holding its session stopped or killed, which a
 * page cannot do itself. One fleet at a time.
 */
import type { BrowserCommand } from 'vitest/node';
import { type FleetMember, GatewayFleet } from '../../remote-gateway/testing/gateway-fleet.ts';

export interface Fleet {
  /** nginx's public port: ws://127.0.0.1:<port>/v1. */
  port: number;
  members: FleetMember[];
}

let fleet: GatewayFleet | undefined;
/** The gateway stopped by freezeBusyGateway, for killBusyGateway. */
let frozen: FleetMember | undefined;

function running(): GatewayFleet {
  if (!fleet) throw new Error('no gateway fleet: call commands.startGatewayFleet first');
  return fleet;
}

async function stop(): Promise<void> {
  await fleet?.stop();
  fleet = undefined;
  frozen = undefined;
}

/** Starts `gateways` gateways behind nginx, accepting `token` from any page origin. */
const startGatewayFleet: BrowserCommand<[gateways: number, token: string]> = async (
  _context,
  gateways,
  token,
) => {
  await stop();
  // The test page's origin is the vitest server's, on a port chosen at run time.
  fleet = await GatewayFleet.start(gateways, ['--token', token, '--allow-origin', '*']);
  return { port: fleet.port, members: fleet.members } satisfies Fleet;
};

/** SIGSTOP of the one gateway that holds sessions (the test's: a page cannot ask nginx). */
const freezeBusyGateway: BrowserCommand<[]> = async () => {
  frozen = await running().busy();
  running().freeze(frozen);
  return frozen.name;
};

/** kill -9 of the frozen gateway, else of the busy one; resolves with its name once gone. */
const killBusyGateway: BrowserCommand<[]> = async () => {
  const victim = frozen ?? (await running().busy());
  frozen = undefined;
  await running().kill(victim);
  return victim.name;
};

/** Resolves once no running gateway holds a session. */
const gatewayFleetIdle: BrowserCommand<[]> = () => running().idle();

const stopGatewayFleet: BrowserCommand<[]> = () => stop();

export const gatewayFleetCommands = {
  startGatewayFleet,
  freezeBusyGateway,
  killBusyGateway,
  gatewayFleetIdle,
  stopGatewayFleet,
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    startGatewayFleet(gateways: number, token: string): Promise<Fleet>;
    freezeBusyGateway(): Promise<string>;
    killBusyGateway(): Promise<string>;
    gatewayFleetIdle(): Promise<void>;
    stopGatewayFleet(): Promise<void>;
  }
}
