import { describe, expect, it } from 'vitest';
import { quickstart } from '../../examples/quickstart.ts';

describe('examples', () => {
  it('the README quickstart runs and prints what the README says', async () => {
    expect(await quickstart()).toEqual([
      'unary: {"kind":"text","text":"20 ms"}',
      'describe: {"kind":"text","text":"40 ms"}',
      'describe: {"kind":"text","text":"60 ms"}',
    ]);
  });
});
