/** What every doctor check answers: one line each, with what to do when it is not ok. */

/**
 * - `ok`: checked, works.
 * - `fail`: checked, and something is wrong that the operator must fix (a refused login, a missing mailbox, an IP
 *   set of the wrong IP version, no trusted sender…).
 * - `error`: could not check (a server did not answer, an unexpected error): the setting may be right or wrong.
 * - `skipped`: not checked because a check it depends on did not pass (no mailbox list without an IMAP login).
 */
export type CheckStatus = 'ok' | 'fail' | 'error' | 'skipped';

export interface CheckResult {
  /** Stable id, dotted: `imap.login`, `imap.mailbox.quarantine`, `waf.web.v4`, `trust.dns.cert.example`, `clock`. */
  name: string;
  status: CheckStatus;
  /** What was found, one sentence. */
  detail: string;
  /** What to do about it (absent when ok). */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
export const error = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'error',
  detail,
  fix,
});
export const skipped = (name: string, because: string): CheckResult => ({
  name,
  status: 'skipped',
  detail: `not checked: ${because}`,
});

/** Exit code of the whole run: 1 when something is to fix, else 2 when something could not be checked, else 0. */
export function exitCodeOf(results: CheckResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'fail')) return 1;
  if (results.some((r) => r.status === 'error')) return 2;
  return 0;
}

/** An error's message without its stack, on one line. */
export function messageOf(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string } | undefined;
  const text = String(e?.message ?? err)
    .replace(/\s+/g, ' ')
    .trim();
  return e?.code && !text.includes(e.code) ? `${e.code}: ${text}` : text;
}
