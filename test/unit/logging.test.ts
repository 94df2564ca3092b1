/** The structured logger: JSON and text lines, levels, SDK field names, secrets scrubbed. */
import { parseLogLevel, resolveLogFormat, StructuredLogger } from '../../src/logging';

function capture(opts: Partial<ConstructorParameters<typeof StructuredLogger>[0]> = {}) {
  const lines: string[] = [];
  const logger = new StructuredLogger({
    level: 'INFO',
    format: 'json',
    write: (l) => lines.push(l),
    now: () => new Date('2026-12-06T12:00:00Z'),
    ...opts,
  });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('StructuredLogger', () => {
  it('writes one JSON object per line with time, level and message first, SDK names made ours', () => {
    const { logger, lines, json } = capture();
    logger.info('updated IP set', {
      activityType: 'syncIpSets',
      workflowId: 'mail2waf-blocklist-web',
      workflowRunId: 'r1',
      sdkComponent: 'activity',
      target: 'web',
      total: 3,
    });
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(lines[0]!.trimEnd().includes('\n')).toBe(false);
    expect(json()[0]).toEqual({
      time: '2026-12-06T12:00:00.000Z',
      level: 'info',
      message: 'updated IP set',
      workflowId: 'mail2waf-blocklist-web',
      runId: 'r1',
      activityType: 'syncIpSets',
      target: 'web',
      component: 'activity',
      total: 3,
    });
  });

  it('honours the level; lifecycle notices are written at every level', () => {
    const { logger, json } = capture({ level: 'WARN' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e', { error: new Error('boom') });
    logger.notice('mail2waf worker: task queue q');
    expect(json().map((r) => [r.level, r.message])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
      ['info', 'mail2waf worker: task queue q'],
    ]);
    expect(json()[1]!.error).toMatchObject({ name: 'Error', message: 'boom' });
  });

  it("takes the SDK's own timestamp (ns bigint) and renames the core's Rust `target`", () => {
    const { logger, json } = capture();
    logger.info('Initializing worker', {
      sdkComponent: 'core',
      target: 'temporalio_sdk_core::worker',
      timestampNanos: 1_780_000_000_123_000_000n,
      big: 5n,
    });
    expect(json()[0]).toMatchObject({
      time: new Date(1_780_000_000_123).toISOString(),
      component: 'core',
      module: 'temporalio_sdk_core::worker',
      big: '5',
    });
    expect(json()[0]).not.toHaveProperty('target');
  });

  it('scrubs configured secrets wherever they appear, also JSON-escaped', () => {
    const { logger, lines } = capture({ secrets: ['hunter2-password', 'k"ey\\x', 'ab'] });
    logger.warn('login failed with hunter2-password', { detail: { nested: 'k"ey\\x' }, short: 'ab' });
    expect(lines[0]).not.toContain('hunter2-password');
    expect(lines[0]).toContain('[redacted]');
    expect(JSON.parse(lines[0]!)).toMatchObject({ detail: { nested: '[redacted]' }, short: 'ab' });
  });

  it('writes readable text lines for terminals', () => {
    const { logger, lines } = capture({ format: 'text' });
    logger.info('analysed message', { workflowId: 'sweep-1', uid: 4, note: 'two words' });
    expect(lines[0]).toBe(
      '2026-12-06T12:00:00.000Z INFO  analysed message  workflowId=sweep-1 uid=4 note="two words"\n',
    );
  });
});

describe('settings', () => {
  it('LOG_FORMAT wins; otherwise JSON unless stdout is a terminal', () => {
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat(undefined, true)).toBe('text');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('text', false)).toBe('text');
  });

  it('LOG_LEVEL in any case, WARNING for WARN', () => {
    expect(parseLogLevel(undefined)).toBe('INFO');
    expect(parseLogLevel('debug')).toBe('DEBUG');
    expect(parseLogLevel('Warning')).toBe('WARN');
    expect(parseLogLevel('loud')).toBeUndefined();
  });
});
