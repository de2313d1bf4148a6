import type { AnyNodeDefinition } from '../node-contract.ts';
import { NodeRegistry } from '../node-registry.ts';
import { Resample } from './audio/resample.ts';
import { Calculator } from './basic/calculator.ts';
import { PassThrough } from './basic/pass-through.ts';

/** Every node type the core ships, in the order `Known types:` lists them. */
export const BUILTIN_NODES: readonly AnyNodeDefinition[] = [PassThrough, Calculator, Resample];

/** A registry holding the built-in nodes, ready for user types to be added. */
export function createDefaultRegistry(): NodeRegistry {
  return new NodeRegistry(BUILTIN_NODES);
}
