/**
 * `mail2waf doctor`: every outside system the worker needs, checked the way the worker uses it, each answer one
 * line with what to do. The checks are independent and run at once; a check that needs another's success (the
 * mailboxes need the IMAP login) says `skipped` instead of failing twice for one cause.
 */
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import type { WorkerConfig } from '../config';
import { checkClock } from './clock';
import { checkImap } from './imap';
import { checkSettings } from './settings';
import { checkSmtp } from './smtp';
import { checkTemporal } from './temporal';
import { checkTrust } from './trust';
import { error, exitCodeOf, messageOf, skipped, type CheckResult } from './types';
import { checkWaf } from './waf';

export type { CheckResult, CheckStatus } from './types';
export { exitCodeOf } from './types';

type Env = Record<string, string | undefined>;

export interface DoctorOptions {
  /** Do the no-op UpdateIPSet (default true). */
  write?: boolean;
  /** Local time (tests shift it to see the clock check fail). */
  now?: () => number;
  /** Pause between the no-op writes (default 1 s: AWS allows about one write a second per account and Region). */
  writeGapMs?: number;
}

export interface DoctorReport {
  /** 0 all good, 1 something to fix, 2 something could not be checked. */
  exitCode: 0 | 1 | 2;
  checks: CheckResult[];
}

/** A check that throws something unforeseen reports it as its own `error` line instead of ending the run. */
async function guarded(name: string, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await run();
  } catch (err) {
    return [error(name, `the check itself failed (${messageOf(err)})`, 'report this with the output of --json')];
  }
}

function wafClientFor(config: WorkerConfig) {
  const clients = new Map<string, WAFV2Client>();
  return (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new WAFV2Client({
        region,
        endpoint: config.aws.wafEndpoint,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
      });
      clients.set(region, c);
    }
    return c;
  };
}

export async function runDoctor(env: Env, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const settings = checkSettings(env);
  const config = settings.config;
  const temporal = guarded('temporal.connect', () => checkTemporal(env));
  let rest: Promise<CheckResult[]>[];
  if (!config) {
    const why = 'the settings are invalid';
    rest = [['imap.login'], ['smtp'], ['waf'], ['trust.senders'], ['clock']].map(([n]) =>
      Promise.resolve([skipped(n!, why)]),
    );
  } else {
    const waf = wafClientFor(config);
    rest = [
      guarded('imap.login', () => checkImap(config)),
      guarded('smtp', () => checkSmtp(config)),
      guarded('waf', () =>
        checkWaf(config.targets, waf, { write: opts.write ?? true, writeGapMs: opts.writeGapMs ?? 1_000 }),
      ),
      guarded('trust.senders', () => checkTrust(config)),
      // Its own client: the clock check adds a middleware for the Date header.
      guarded('clock', () => checkClock(config.targets[0]!, wafClientFor(config)(config.targets[0]!.region), opts.now)),
    ];
  }
  const checks = [settings.result, ...(await Promise.all([temporal, ...rest])).flat()];
  return { exitCode: exitCodeOf(checks), checks };
}
