/** Read-only commands need only Temporal's settings and target names: no AWS region, IP sets or mail login. */
import { createContext } from '../../src/cli/context';

const bare = { TEMPORAL_ADDRESS: '127.0.0.1:1', WAF_TARGETS: 'edge=REGIONAL:eu-west-1:a:b,api' };

test('readConfig works where the full client config refuses to load', () => {
  const ctx = createContext(bare, () => 'api', { note: () => undefined, stackEnvFile: '/nonexistent' });
  expect(() => ctx.config()).toThrow(); // the full config wants the IP sets of every target, AWS_REGION, …
  expect(ctx.readConfig()).toMatchObject({ target: { name: 'api' }, taskQueue: 'mail2waf' });
  expect(ctx.readConfig().searchKey).toBeUndefined();
});

test('readConfig derives the search key as the worker does, and names an unknown target', () => {
  const key = Buffer.alloc(32, 3).toString('base64');
  const ctx = createContext({ ...bare, PAYLOAD_KEYS: `k1:${key}` }, () => undefined, {
    note: () => undefined,
    stackEnvFile: '/nonexistent',
  });
  expect(ctx.readConfig().target.name).toBe('edge');
  expect(ctx.readConfig().searchKey).toHaveLength(32);
  const unknown = createContext(bare, () => 'nope', { note: () => undefined, stackEnvFile: '/nonexistent' });
  expect(() => unknown.readConfig()).toThrow(/unknown target "nope" — configured targets: edge, api/);
});
