/**
 * What the studio remembers across reloads, in IndexedDB (idb-keyval): the chosen
 * preset and input, the Python nodes' sources as last edited, the gateway settings
 * and which nodes run there.
 */
import { get, set } from 'idb-keyval';

export interface StudioState {
  preset: string;
  input: 'sample' | 'file' | 'microphone';
  pythonSource: string;
  /** The voice loop's reply node, as last edited. */
  replySource: string;
  recognition: 'commands' | 'dictation';
  gatewayAddress: string;
  gatewayToken: string;
  /** Per preset, the nodes switched to the gateway. */
  onGateway: Record<string, string[]>;
}

const KEY = 'remotemedia-studio';

export async function loadState(defaults: StudioState): Promise<StudioState> {
  try {
    return { ...defaults, ...((await get<Partial<StudioState>>(KEY)) ?? {}) };
  } catch {
    return defaults; // private windows may refuse IndexedDB: start fresh
  }
}

export function saveState(state: StudioState): Promise<void> {
  return set(KEY, state).catch(() => {});
}
