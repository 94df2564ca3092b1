/**
 * Seeded pseudo-random test input (a linear congruential generator): the same seed gives the same
 * values on every run, so a failing case can be reproduced.
 */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const u32 = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const unit = (): number => u32() / 2 ** 32;
  return {
    /** The next 32-bit value. */
    u32,
    /** In [0, 1). */
    unit,
    /** In [0, n), from u32. */
    below: (n: number): number => u32() % n,
    /** One to `max` of `pieces` chosen at random, joined: fuzz input made of the text a rule cares about. */
    join: (pieces: readonly string[], max: number): string => {
      let s = '';
      for (let n = 1 + Math.floor(unit() * max); n > 0; n--) s += pieces[Math.floor(unit() * pieces.length)];
      return s;
    },
  };
}
