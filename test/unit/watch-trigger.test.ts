/** The watch's pure pieces: when a sweep starts (debounce, one at a time, mail during a sweep) and the back-off. */
import { Backoff, backoffDelay } from '../../src/watch/backoff';
import { SweepTrigger } from '../../src/watch/trigger';

const opts = { debounceMs: 300, maxDelayMs: 1000 };

describe('SweepTrigger', () => {
  test('one arrival: a sweep after the debounce, not before', () => {
    const t = new SweepTrigger(opts);
    expect(t.arrival(0)).toBe(300);
    expect(t.due(299)).toBe(false);
    expect(t.due(300)).toBe(true);
    expect(t.state.phase).toBe('running');
    expect(t.finished(900)).toBeUndefined();
    expect(t.state.phase).toBe('idle');
  });

  test('a burst is one sweep; a burst that goes on is swept after maxDelay all the same', () => {
    const t = new SweepTrigger(opts);
    t.arrival(0);
    expect(t.arrival(100)).toBe(400);
    expect(t.arrival(250)).toBe(550);
    expect(t.due(400)).toBe(false);
    expect(t.due(550)).toBe(true);
    const long = new SweepTrigger(opts);
    let due = 0;
    for (let now = 0; now <= 2000; now += 200) due = long.arrival(now)!;
    expect(due).toBe(1000);
  });

  test('mail during a sweep: no second sweep at once, another one right after', () => {
    const t = new SweepTrigger(opts);
    t.arrival(0);
    t.due(300);
    expect(t.arrival(400)).toBeUndefined();
    expect(t.arrival(500)).toBeUndefined();
    expect(t.due(10_000)).toBe(false); // still running
    expect(t.state).toEqual({ phase: 'running', dirty: true });
    // finished long after the arrivals: at once
    expect(t.finished(5000)).toBe(5000);
    expect(t.due(5000)).toBe(true);
    expect(t.finished(6000)).toBeUndefined();
  });

  test('an arrival just before the end of a sweep still gets its debounce (the burst may go on)', () => {
    const t = new SweepTrigger(opts);
    t.arrival(0);
    t.due(300);
    t.arrival(1900);
    expect(t.finished(2000)).toBe(2200);
  });

  test('`again` (joined a running sweep, or a full one): another sweep even without new mail', () => {
    const t = new SweepTrigger(opts);
    t.arrival(0);
    t.due(300);
    expect(t.finished(700, true)).toBe(700);
    expect(t.due(700)).toBe(true);
  });

  test('a timer that fires early changes nothing', () => {
    const t = new SweepTrigger(opts);
    expect(t.due(0)).toBe(false);
    t.arrival(0);
    t.arrival(200);
    expect(t.due(300)).toBe(false);
    expect(t.pendingAt).toBe(500);
    expect(t.finished(300)).toBe(500); // not running: the pending time stands
  });
});

describe('back-off', () => {
  const o = { initialMs: 500, maxMs: 30_000 };
  test('doubles from the initial delay up to the cap, with equal jitter', () => {
    const max = [0, 1, 2, 3, 4, 5, 6, 7, 10, 50].map((a) => backoffDelay(a, o, () => 1));
    expect(max).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
    const min = [0, 1, 6].map((a) => backoffDelay(a, o, () => 0));
    expect(min).toEqual([250, 500, 15000]);
  });

  test('a connection that stayed up resets it; one that dropped at once keeps backing off', () => {
    const b = new Backoff({ ...o, stableMs: 10_000 }, () => 1);
    expect(b.failed(0)).toBe(500);
    expect(b.failed(1)).toBe(1000);
    b.succeeded(100);
    expect(b.failed(200)).toBe(2000); // up 100 ms only
    b.succeeded(1000);
    expect(b.failed(20_000)).toBe(500); // up 19 s
  });

  test('without stableMs a success resets at once (sweeps)', () => {
    const b = new Backoff(o, () => 1);
    b.failed(0);
    b.failed(0);
    b.succeeded(0);
    expect(b.failed(0)).toBe(500);
  });
});
