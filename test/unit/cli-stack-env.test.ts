/** The CLI completes its settings from the local stack's .stack/env only when nothing says where to connect. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from '../../src/cli/context';
import { parseEnvFile, stackEnvNote, withStackEnv } from '../../src/cli/stack-env';

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mail2waf-stack-env-'));
  file = join(dir, 'env');
  writeFileSync(
    file,
    [
      '# Written by scripts/stack-up.sh. Load with: set -a; . ./.stack/env; set +a',
      'TEMPORAL_ADDRESS=127.0.0.1:7233',
      'AWS_REGION=us-east-1',
      'WAF_IPSET_V4_NAME=mail2waf-v4',
      'WAF_IPSET_V6_NAME=mail2waf-v6',
      'STACK_DIR=/somewhere/.stack',
      'not a setting',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('parses KEY=value lines and skips comments and anything else', () => {
  expect(parseEnvFile('# c\nA_B=1\n  C=x=y  \nlower=no\nD=\n')).toEqual({ A_B: '1', C: 'x=y', D: '' });
});

test('with no connection setting, missing settings come from the file and the CLI says so', () => {
  const r = withStackEnv({ AWS_REGION: 'eu-west-1', WAF_IPSET_V6_NAME: '' }, file);
  expect(r.file).toBe(file);
  // What the environment sets wins, even when empty; the stack's own bookkeeping (STACK_*) is left out.
  expect(r.env).toMatchObject({
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    AWS_REGION: 'eu-west-1',
    WAF_IPSET_V4_NAME: 'mail2waf-v4',
    WAF_IPSET_V6_NAME: '',
  });
  expect(r.env.STACK_DIR).toBeUndefined();
  expect(r.filled).toBe(2);
  const note = stackEnvNote(r)!;
  expect(note.split('\n').filter(Boolean)).toHaveLength(1);
  expect(note).toContain(file);
  expect(note).toMatch(/TEMPORAL_ADDRESS is not set/);
});

test.each(['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'MAIL2WAF_CONFIG'])(
  'a set %s means the operator chose: the file is not read',
  (name) => {
    const env = { [name]: 'x' };
    const r = withStackEnv(env, file);
    expect(r.env).toBe(env);
    expect(r.file).toBeUndefined();
    expect(stackEnvNote(r)).toBeUndefined();
  },
);

test('no file (an installed package): the environment as it is', () => {
  const env = { AWS_REGION: 'eu-west-1' };
  expect(withStackEnv(env, join(dir, 'missing')).env).toBe(env);
});

test('the context reads the file lazily, once, and notes it once', () => {
  const notes: string[] = [];
  const ctx = createContext({ MAIL2WAF_ACTOR: 'alice' }, () => undefined, {
    note: (s) => notes.push(s),
    stackEnvFile: file,
  });
  expect(notes).toEqual([]);
  expect(ctx.config().target).toMatchObject({ ipSetV4Name: 'mail2waf-v4', region: 'us-east-1' });
  expect(ctx.env('TEMPORAL_ADDRESS')).toBe('127.0.0.1:7233');
  expect(notes).toHaveLength(1);
});
