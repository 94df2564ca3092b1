/**
 * Clock skew. The worker's clock matters in two places: the trust gate judges DKIM signature times against it
 * (a signature from the future or older than MAX_ADVISORY_AGE is refused), and AWS rejects SigV4 requests signed
 * more than 5 minutes off. The reference is the HTTP `Date` header of a cheap AWS WAF call (ListIPSets), from the
 * same endpoint the worker writes to. Temporal's gRPC answers carry no date (its response headers are only
 * content-type and grpc-status), and IMAP and SMTP have no command that tells the server's time without leaving
 * a message behind, so AWS is the one real clock the worker already talks to.
 */
import { ListIPSetsCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';
import type { TargetRef } from '../shared/types';
import { error, fail, messageOf, ok, type CheckResult } from './types';

/** More than this apart (beyond the measurement's own uncertainty) is a clock to fix. */
export const MAX_SKEW_MS = 60_000;

export async function checkClock(
  target: TargetRef,
  client: WAFV2Client,
  now: () => number = Date.now,
): Promise<CheckResult[]> {
  let date: string | undefined;
  // Read the raw response's Date header: the SDK's parsed output does not keep response headers.
  const name = 'mail2waf-doctor-date';
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      date = (out.response as { headers?: Record<string, string> }).headers?.date;
      return out;
    },
    { step: 'deserialize', name },
  );
  const sent = now();
  try {
    await client.send(new ListIPSetsCommand({ Scope: target.scope, Limit: 1 }));
  } catch (err) {
    return [
      error(
        'clock',
        `no answer from AWS WAF in ${target.region} to compare clocks with (${messageOf(err)})`,
        'see the waf checks; try again',
      ),
    ];
  } finally {
    client.middlewareStack.remove(name);
  }
  const received = now();
  const server = date ? Date.parse(date) : NaN;
  if (Number.isNaN(server)) {
    return [
      error(
        'clock',
        `AWS WAF in ${target.region} sent no Date header`,
        'compare the clock with an NTP server by hand (chronyc tracking, timedatectl)',
      ),
    ];
  }
  // The header has whole seconds (server time is in [server, server + 1 s)) and the answer took (received - sent).
  const skew = (sent + received) / 2 - (server + 500);
  const uncertainty = 500 + (received - sent) / 2;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const detail = `local clock ${skew >= 0 ? 'ahead of' : 'behind'} AWS WAF (${target.region}) by ${seconds(Math.abs(skew))} ± ${seconds(uncertainty)}`;
  if (Math.abs(skew) - uncertainty > MAX_SKEW_MS) {
    return [
      fail(
        'clock',
        `${detail}: more than ${MAX_SKEW_MS / 1000} s`,
        "synchronise the clock (chrony, systemd-timesyncd or the platform's NTP); DKIM time checks and AWS signatures depend on it",
      ),
    ];
  }
  return [ok('clock', detail)];
}
