/**
 * Node registry: maps `node_type` names (and aliases) to node definitions. The
 * default registry holds the built-in nodes; user types are registered on top.
 */
import { RemoteMediaError } from './errors.ts';
import type { AnyNodeDefinition, NodeDefinition } from './node-contract.ts';

export class NodeRegistry {
  private readonly byName = new Map<string, AnyNodeDefinition>();
  private readonly primary: string[] = [];

  constructor(definitions: Iterable<AnyNodeDefinition> = []) {
    for (const definition of definitions) this.register(definition);
  }

  /** Adds a node type. A name (or alias) that is already taken is a `usage` error. */
  register<Params>(definition: NodeDefinition<Params>): this {
    const names = [definition.type, ...(definition.aliases ?? [])];
    for (const name of names) {
      if (this.byName.has(name)) {
        throw new RemoteMediaError('usage', `Node type '${name}' is already registered`);
      }
    }
    for (const name of names) this.byName.set(name, definition as AnyNodeDefinition);
    this.primary.push(definition.type);
    return this;
  }

  get(type: string): AnyNodeDefinition | undefined {
    return this.byName.get(type);
  }

  has(type: string): boolean {
    return this.byName.has(type);
  }

  /** Primary type names, in registration order. */
  types(): readonly string[] {
    return this.primary;
  }

  /** Every accepted name, aliases included, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** A new registry with the same types, for adding to without touching this one. */
  clone(): NodeRegistry {
    const copy = new NodeRegistry();
    for (const type of this.primary) copy.register(this.byName.get(type)!);
    return copy;
  }
}
