/**
 * `mail2waf doctor [--json] [--no-write]`: checks the settings and every server the worker needs, one line per
 * check with what to do when it is not ok. Exit 0 all good, 1 something to fix, 2 something could not be checked.
 * It reads the same settings as `mail2waf worker` (the environment and MAIL2WAF_CONFIG), so run it in the
 * worker's environment (the container, the unit's EnvironmentFile).
 */
import type { Command } from 'commander';
import type { CheckResult, DoctorReport } from '../doctor';
import { table, type Printer } from './output';

type Env = Record<string, string | undefined>;

const MARK: Record<CheckResult['status'], string> = { ok: 'ok', fail: 'FAIL', error: 'ERROR', skipped: 'skip' };

/** One line per check, the fix indented under each one that is not ok, and a closing count. */
export function formatDoctor(r: DoctorReport): string {
  const lines = table(r.checks.map((c) => [MARK[c.status], c.name, c.detail])).split('\n');
  const out: string[] = [];
  r.checks.forEach((c, i) => {
    out.push(lines[i]!);
    if (c.fix && c.status !== 'ok') out.push(`      → ${c.fix}`);
  });
  const count = (s: CheckResult['status']) => r.checks.filter((c) => c.status === s).length;
  out.push(
    '',
    r.exitCode === 0
      ? `all ${count('ok')} checks passed`
      : `${count('fail')} to fix, ${count('error')} could not be checked, ${count('skipped')} skipped, ${count('ok')} ok`,
  );
  return out.join('\n');
}

export function registerDoctor(program: Command, env: () => Env, printer: () => Printer) {
  program
    .command('doctor')
    .description('check the settings, Temporal, IMAP, SMTP, the AWS WAF IP sets, trust settings and clock skew')
    .option('--no-write', 'skip the no-op UpdateIPSet that proves the IP sets are writable')
    .action(async (opts: { write: boolean }) => {
      // Loaded here: the checks pull in the Temporal client, the AWS SDK and the mail libraries.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runDoctor } = require('../doctor') as typeof import('../doctor');
      const report = await runDoctor(env(), { write: opts.write });
      const p = printer();
      p.result(report, formatDoctor, report.exitCode !== 0);
      // "Could not check" is exit 2; the printer's own code only knows 0 and 1.
      if (report.exitCode === 2) Object.assign(p, { exitCode: 2 });
    });
}
