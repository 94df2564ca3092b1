/**
 * The shipped alert rules pass `promtool check rules` and their unit tests (`promtool test rules`), and every
 * metric they read is one the worker exports (a renamed metric must not leave an alert that never fires).
 * promtool comes from Debian's `prometheus` package (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../../src/metrics';

const dir = join(__dirname, '..', '..', 'ops', 'prometheus');
const rules = join(dir, 'mail2waf-rules.yml');

function promtool(args: string[]) {
  const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `promtool is missing (${r.error.message}) — install it: apt-get install -y prometheus (Debian), as .ci/run does`,
    );
  }
  return r;
}

describe('Prometheus alert rules (ops/prometheus)', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', rules]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', 'mail2waf-rules.test.yml']);
    if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.stdout}${r.stderr}`);
    expect(r.stdout).toMatch(/SUCCESS/);
  });

  it('read only metrics the worker exports', async () => {
    const exported = new Set([...(await new Metrics().text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const used = new Set([...readFileSync(rules, 'utf8').matchAll(/\b(mail2waf_[a-z0-9_]+)/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(4);
    for (const name of used) expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
  });

  it('the dashboard queries only metrics the worker or the Temporal SDK exports', async () => {
    const exported = [...(await new Metrics().text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    const dashboard = readFileSync(join(dir, '..', 'grafana', 'mail2waf.json'), 'utf8');
    JSON.parse(dashboard);
    for (const [, name] of dashboard.matchAll(/\b(mail2waf_[a-z0-9_]+?)(?:_bucket|_sum|_count)?\b/g)) {
      expect({ name, exported: exported.includes(name!) }).toEqual({ name, exported: true });
    }
  });
});

// Fail with the instruction, not with a stack trace, when the tool is not there at all.
beforeAll(() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('promtool is missing — install it: apt-get install -y prometheus (Debian), as .ci/run does');
  }
});
