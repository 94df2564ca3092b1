/** How the worker reports its end before (or without) its logger: the logs' format, what to fix, no secret. */
import { ConfigError } from '../../src/config';
import { reportWorkerExit, startupLogFormat, startupNote, workerExit } from '../../src/startup-failure';

const now = () => new Date('2026-12-06T12:00:00.000Z');

function run(err: unknown, env: Record<string, string | undefined>, stdoutIsTty: boolean) {
  let err_ = '';
  const code = reportWorkerExit(err, { env, stdoutIsTty, writeErr: (s) => (err_ += s), now });
  return { code, text: err_ };
}

test('the format is the logger’s: LOG_FORMAT, else JSON unless stdout is a terminal; a bad LOG_FORMAT does not stop the report', () => {
  expect(startupLogFormat({}, false)).toBe('json');
  expect(startupLogFormat({}, true)).toBe('text');
  expect(startupLogFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
  expect(startupLogFormat({ LOG_FORMAT: 'text' }, false)).toBe('text');
  expect(startupLogFormat({ LOG_FORMAT: 'yaml' }, false)).toBe('json');
  expect(startupLogFormat({ MAIL2WAF_CONFIG: '/nonexistent/mail2waf.yaml' }, true)).toBe('text');
});

test('invalid settings: one JSON line on stderr with every problem, exit 1', () => {
  const { code, text } = run(new ConfigError(['IMAP_HOST is not set', 'REPORT_TO: not an address']), {}, false);
  expect(code).toBe(1);
  expect(text.endsWith('\n')).toBe(true);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(JSON.parse(text)).toEqual({
    time: '2026-12-06T12:00:00.000Z',
    level: 'error',
    message: 'mail2waf worker cannot start: invalid configuration',
    component: 'worker',
    exitCode: 1,
    problems: ['IMAP_HOST is not set', 'REPORT_TO: not an address'],
  });
});

test('invalid settings on a terminal: readable text, one problem a line', () => {
  const { code, text } = run(
    new ConfigError(['HEALTH_PORT 9464 on 127.0.0.1 is already in use — set HEALTH_PORT']),
    {},
    true,
  );
  expect(code).toBe(1);
  expect(text).toBe(
    'mail2waf worker cannot start: invalid configuration:\n  - HEALTH_PORT 9464 on 127.0.0.1 is already in use — set HEALTH_PORT\n',
  );
});

test('a missing Temporal namespace names TEMPORAL_NAMESPACE', () => {
  const err = Object.assign(new Error('Namespace nope was not found or otherwise could not be described: …'), {
    name: 'TransportError',
  });
  expect(workerExit(err)).toMatchObject({
    code: 1,
    problems: [expect.stringMatching(/"nope" does not exist — set TEMPORAL_NAMESPACE/)],
  });
});

test('an unexpected failure: exit 2, the error with its stack in the JSON line, and no configured secret either way', () => {
  const env = { IMAP_PASSWORD: 'hunter2-imap-secret' };
  const err = new Error('login as x with hunter2-imap-secret failed');
  const json = run(err, env, false);
  expect(json.code).toBe(2);
  const line = JSON.parse(json.text);
  expect(line).toMatchObject({ level: 'error', message: 'mail2waf worker failed: login as x with [redacted] failed' });
  expect(line.error).toMatchObject({ name: 'Error', stack: expect.stringContaining('startup-failure.test.ts') });
  expect(json.text).not.toContain('hunter2');

  const text = run(err, env, true);
  expect(text.text).toMatch(/^mail2waf worker failed: Error: login as x with \[redacted\] failed\n\s+at /);
  expect(text.text).not.toContain('hunter2');
});

test('a drain that outlived SHUTDOWN_GRACE says so (exit 2)', () => {
  const err = Object.assign(new Error('x'), { name: 'GracefulShutdownPeriodExpiredError' });
  expect(workerExit(err)).toEqual({ code: 2, message: expect.stringMatching(/did not stop within SHUTDOWN_GRACE/) });
});

test('the note written before the logger runs is a log line in the same format', () => {
  let out = '';
  startupNote('mail2waf worker: workflows from /app/lib/workflow-bundle.js', {
    env: {},
    stdoutIsTty: false,
    writeOut: (s) => (out += s),
    now,
  });
  expect(JSON.parse(out)).toEqual({
    time: '2026-12-06T12:00:00.000Z',
    level: 'info',
    message: 'mail2waf worker: workflows from /app/lib/workflow-bundle.js',
    component: 'worker',
  });
});
