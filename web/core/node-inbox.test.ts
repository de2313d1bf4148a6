/**
 * NodeInbox lanes keep order through every way a lane's array is reused: emptied and
 * started again at the front, and a long queue moved to the front while it is worked
 * off; and their bound holds producers back as before.
 */
import { describe, expect, it } from 'vitest';
import { END_OF_STREAM, NodeInbox } from './node-inbox.ts';

function takeAll(inbox: NodeInbox<number>, count: number): number[] {
  const taken: number[] = [];
  for (let i = 0; i < count; i++) {
    const item = inbox.take();
    if (item instanceof Promise || item === END_OF_STREAM) throw new Error(`no item at ${i}`);
    taken.push(item);
  }
  return taken;
}

describe('NodeInbox', () => {
  it('keeps order when a lane empties and starts again, item by item', () => {
    const inbox = new NodeInbox<number>(1, 1000);
    const taken: number[] = [];
    for (let i = 0; i < 500; i++) {
      inbox.push(0, i);
      taken.push(...takeAll(inbox, 1));
    }
    expect(taken).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(inbox.depth).toBe(0);
  });

  it('keeps order while a long queue is worked off and refilled (moved to the front)', () => {
    const inbox = new NodeInbox<number>(1, 10_000);
    let next = 0;
    const taken: number[] = [];
    for (let i = 0; i < 300; i++) inbox.push(0, next++);
    taken.push(...takeAll(inbox, 200)); // past 64 and past half: moved to the front
    for (let i = 0; i < 150; i++) inbox.push(0, next++);
    taken.push(...takeAll(inbox, 120));
    for (let i = 0; i < 70; i++) inbox.push(0, next++);
    expect(inbox.depth).toBe(next - taken.length);
    taken.push(...takeAll(inbox, next - taken.length));
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(inbox.take()).toBeInstanceOf(Promise);
  });

  it('hands a waiting consumer the next item, and holds producers at the bound', async () => {
    const inbox = new NodeInbox<number>(1, 2);
    const waiting = inbox.take();
    expect(waiting).toBeInstanceOf(Promise);
    expect(inbox.push(0, 7)).toBeUndefined();
    expect(await waiting).toBe(7);
    expect(inbox.push(0, 1)).toBeUndefined();
    expect(inbox.push(0, 2)).toBeUndefined();
    const held = inbox.push(0, 3);
    expect(held).toBeInstanceOf(Promise);
    expect(takeAll(inbox, 1)).toEqual([1]);
    await held; // taken in as a slot freed
    inbox.closeLane(0);
    expect(takeAll(inbox, 2)).toEqual([2, 3]);
    expect(inbox.take()).toBe(END_OF_STREAM);
  });
});
