import type { AnyNodeDefinition } from '../node-contract.ts';
import { NodeRegistry } from '../node-registry.ts';
import { Accumulator } from './audio/accumulator.ts';
import { EnergyVAD } from './audio/energy-vad.ts';
import { FormatConvert } from './audio/format-convert.ts';
import { Gain } from './audio/gain.ts';
import { LogMel } from './audio/log-mel.ts';
import { Rebuffer } from './audio/rebuffer.ts';
import { Resample } from './audio/resample.ts';
import { Calculator } from './basic/calculator.ts';
import { PassThrough } from './basic/pass-through.ts';

/** Every node type the core ships, in the order `Known types:` lists them. */
export const BUILTIN_NODES: readonly AnyNodeDefinition[] = [
  PassThrough,
  Calculator,
  Resample,
  FormatConvert,
  Gain,
  Rebuffer,
  Accumulator,
  EnergyVAD,
  LogMel,
];

/** A registry holding the built-in nodes, ready for user types to be added. */
export function createDefaultRegistry(): NodeRegistry {
  return new NodeRegistry(BUILTIN_NODES);
}
