/**
 * `mail2waf explain <file.eml> [--json]`: the trust gate's verdict on a saved message, step by step, offline (no
 * Temporal, IMAP or AWS): which Received line was the entry hop and why the ones above it were internal, what
 * DKIM / SPF / DMARC / ARC said, the provider's verdict used or set aside, the alignment, the reason code, and what
 * each address in the message would become. It reads the worker's settings (TRUSTED_SENDERS, MTA_HOSTS,
 * TRUSTED_ARC_SEALERS, TRUSTED_AUTHSERV_IDS, MAX_ADVISORY_AGE, DNS_RECORDS_FILE or the real DNS, NEVER_BLOCK,
 * MIN_PREFIX_V4/V6) and runs the gate's own code path, so operators tune those settings with it.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { HopTrace } from '../activities/authenticate';
import type { AuthResults, MtaRoute, ProviderFacts, ProviderUse, TrustDecision } from '../policy/trust';
import { oneLine } from '../shared/text';
import { lazy } from './lazy';
import { table, UserError, type Printer } from './output';

type Env = Record<string, string | undefined>;

/** What one address in the message would become. */
export interface AddressOutcome {
  value: string;
  /** `block`: a trusted message's address the safety policy accepts; `refused`: the policy refuses it (always,
   *  whoever sends it); `not-blocked`: the message is not trusted. Whether it is already blocked is not known offline. */
  outcome: 'block' | 'refused' | 'not-blocked';
  code?: string;
  reason?: string;
  where: string;
}

/** What `explain` prints with --json. */
export interface ExplainResult {
  file: string;
  /** The time the verdict is judged at (ISO), `--at` or now. */
  at: string;
  settings: {
    trustedSenders: string[];
    mtaHosts: string[];
    trustedArcSealers: string[];
    trustedAuthservIds: string[];
    dns: string;
  };
  from: string[];
  /** Why the header section reads two ways (empty when it reads one way). */
  headerProblems: string[];
  hops: HopTrace[];
  route?: MtaRoute;
  routeProblem?: string;
  auth?: AuthResults;
  /** With TRUSTED_AUTHSERV_IDS: the provider verdicts found by position, and which one was used or why none. */
  provider?: { found: ProviderFacts; used?: string; ignored: string[] };
  decision: TrustDecision;
  addresses: AddressOutcome[];
  /** Set when the body could not be read (the sweep would quarantine it whatever the gate says). */
  extractionProblem?: string;
}

const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** Runs the gate and the extraction on one saved message. */
export async function explainFile(path: string, env: Env, at: number): Promise<ExplainResult> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new UserError(`${path} is not a file — give a saved message (.eml)`);
    size = s.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_FILE_BYTES) throw new UserError(`${path} is larger than 50 MB; the worker would not read it either`);
  const raw = await readFile(path);

  // The gate (mailauth, the mail parser) and the extraction engine load here, not when the CLI starts.
  const { loadExplainConfig } = lazy.config();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gate = require('../activities/authenticate') as typeof import('../activities/authenticate');
  const { refusalFor } = lazy.blocklistPolicy();
  const { extractFromFile } = lazy.extractFile();

  const { trust, policy } = loadExplainConfig(env);
  const resolver = gate.createResolver(trust);
  const x = await gate.examineMessage(raw, trust, resolver, at, { verifyUntrusted: true });
  const extraction = await extractFromFile('message.eml', raw, { maxMessageBytes: MAX_FILE_BYTES });

  const addresses: AddressOutcome[] = extraction.indicators.map((f) => {
    const refusal = refusalFor(f.value, policy);
    const where = f.where[0] ?? '';
    if (refusal) return { value: f.value, outcome: 'refused', code: refusal.code, reason: refusal.reason, where };
    if (x.decision.trusted && extraction.ok) return { value: f.value, outcome: 'block', where };
    return {
      value: f.value,
      outcome: 'not-blocked',
      code: x.decision.trusted ? (extraction.reasonCode ?? 'unreadable') : x.decision.code,
      reason: x.decision.trusted
        ? (extraction.reason ?? 'the message could not be read')
        : 'the message is not trusted',
      where,
    };
  });

  const result: ExplainResult = {
    file: path,
    at: new Date(at).toISOString(),
    settings: {
      trustedSenders: trust.trustedSenders,
      mtaHosts: trust.mtaHosts,
      trustedArcSealers: trust.trustedArcSealers,
      trustedAuthservIds: trust.trustedAuthservIds ?? [],
      dns: trust.dnsRecordsFile ? `DNS_RECORDS_FILE=${trust.dnsRecordsFile}` : 'the real DNS',
    },
    from: x.facts.from.addresses.map((a) => a.address),
    headerProblems: x.facts.headerProblems,
    hops: x.trace.hops,
    decision: x.decision,
    addresses,
  };
  if (x.facts.route) result.route = x.facts.route;
  if (x.facts.routeProblem) result.routeProblem = x.facts.routeProblem;
  if (x.auth) result.auth = x.auth;
  if (x.facts.provider) {
    result.provider = { found: x.facts.provider, ...providerSummary(x.provider, x.decision.code) };
  }
  if (!extraction.ok) result.extractionProblem = extraction.reason ?? extraction.reasonCode ?? 'unreadable';
  return result;
}

function providerSummary(p: ProviderUse | undefined, code: string): { used?: string; ignored: string[] } {
  if (!p) return { ignored: ['not weighed: the message stopped before authentication'] };
  if (p.use && code !== 'trusted-provider') {
    // The gate weighs the provider only when its own check does not settle it.
    return {
      ignored: [...p.ignored, `${p.use.what} says dmarc=pass too; not needed, the decision did not rest on it`],
    };
  }
  return p.use ? { used: p.use.what, ignored: p.ignored } : { ignored: p.ignored };
}

const ROLE: Record<HopTrace['role'], string> = {
  handoff: 'hand-off',
  internal: 'internal',
  entry: 'ENTRY',
  sender: 'sender',
};

/** The human report: numbered steps, mail-controlled text made one safe line each. */
export function formatExplain(r: ExplainResult): string {
  const out: string[] = [];
  const s = r.settings;
  out.push(
    `${oneLine(r.file)} — judged at ${r.at}`,
    `settings: TRUSTED_SENDERS=${s.trustedSenders.join(',') || '(none)'}  MTA_HOSTS=${s.mtaHosts.join(',') || '(none)'}` +
      `  TRUSTED_ARC_SEALERS=${s.trustedArcSealers.join(',') || '(none)'}` +
      `  TRUSTED_AUTHSERV_IDS=${s.trustedAuthservIds.join(',') || '(none)'}  DNS: ${oneLine(s.dns)}`,
    '',
    `1. From: ${r.from.map((a) => oneLine(a, 120)).join(', ') || '(no address)'}`,
  );
  if (r.headerProblems.length > 0) {
    out.push(`   the header section reads two ways: ${r.headerProblems.map((p) => oneLine(p, 200)).join('; ')}`);
  }
  out.push('', '2. Received lines, top first (where the mail entered our organisation):');
  const shown = r.hops.filter((h) => h.role !== 'sender');
  const below = r.hops.length - shown.length;
  if (shown.length > 0) {
    out.push(
      table(
        shown.map((h) => [
          `   #${h.field}`,
          ROLE[h.role],
          `by ${oneLine(h.by ?? '?', 60)}`,
          `client ${oneLine(h.ip ?? '?', 45)}${h.rdns ? ` (${oneLine(h.rdns, 60)})` : ''}${h.helo ? ` helo ${oneLine(h.helo, 60)}` : ''}`,
        ]),
      ),
    );
    for (const h of shown) out.push(`   #${h.field}: ${oneLine(h.why, 400)}`);
  }
  if (below > 0) out.push(`   ${below} line(s) below the entry hop: the sender’s to write, not read`);
  if (r.route) {
    out.push(
      `   entry hop: ${oneLine(r.route.ip)} (HELO ${oneLine(r.route.helo ?? '?', 80)}, MAIL FROM ${oneLine(r.route.mailFrom ?? '<>', 80)}) by ${oneLine(r.route.by)}: what SPF is checked for`,
    );
  } else out.push(`   no entry hop: ${oneLine(r.routeProblem ?? 'unknown', 300)}`);

  out.push('', '3. Authentication (verified here, never read from the sender’s headers):');
  if (r.auth) {
    const a = r.auth;
    for (const d of a.dkim) {
      out.push(
        `   dkim=${d.result} d=${oneLine(d.domain, 80)}${d.selector ? ` s=${oneLine(d.selector, 40)}` : ''}` +
          `${d.comment ? ` (${oneLine(d.comment, 80)})` : ''}; ${d.aligned ? 'aligned with From' : 'not aligned with From'}` +
          `${d.wholeBody ? '' : '; l= leaves part of the body unsigned'}${d.signedAt ? `; signed ${d.signedAt}` : ''}`,
      );
    }
    if (a.dkim.length === 0) out.push('   dkim=none (no signature)');
    out.push(`   spf=${a.spf.result}${a.spf.domain ? ` (${oneLine(a.spf.domain, 80)})` : ''}`);
    out.push(
      `   dmarc=${a.dmarc.result}${a.dmarc.policy ? ` p=${a.dmarc.policy}` : ''}${a.dmarc.domain ? ` for ${oneLine(a.dmarc.domain, 80)}` : ''}` +
        ` — alignment: DKIM ${a.dmarc.dkimAligned ? 'aligned' : 'not aligned'}, SPF ${a.dmarc.spfAligned ? 'aligned' : 'not aligned'}`,
    );
    out.push(
      `   arc=${a.arc.result}${a.arc.sealer ? ` sealed by ${oneLine(a.arc.sealer, 80)} (i=${a.arc.instance ?? '?'})` : ''}` +
        `${a.arc.dmarc ? `, which saw dmarc=${a.arc.dmarc} for ${oneLine(a.arc.dmarcFrom ?? '?', 80)}` : ''}` +
        `${a.arc.comment ? ` (${oneLine(a.arc.comment, 120)})` : ''}`,
    );
  } else out.push('   not verified: the gate decided before authentication (see the decision)');

  out.push('', '4. The provider’s verdict (TRUSTED_AUTHSERV_IDS):');
  if (!r.provider) out.push('   not configured: only our own verification counts');
  else {
    const f = r.provider.found;
    const rest = (x: NonNullable<ProviderFacts['authResults']>) =>
      [
        ...x.dkim.map((d) => `dkim=${d.result}${d.domain ? ` (${oneLine(d.domain, 80)})` : ''}`),
        ...(x.spf ? [`spf=${x.spf.result}${x.spf.domain ? ` (${oneLine(x.spf.domain, 80)})` : ''}`] : []),
      ].join(', ');
    if (f.authResults) {
      out.push(
        `   Authentication-Results by ${oneLine(f.authResults.authservId, 80)} (#${f.authResults.field}, above the entry hop): dmarc=${f.authResults.dmarc ?? 'none'} header.from=${oneLine(f.authResults.dmarcFrom ?? '?', 80)}; ${rest(f.authResults)}`,
      );
    }
    if (f.arc) {
      out.push(
        `   ARC set i=${f.arc.instance} by ${oneLine(f.arc.authservId, 80)} (sealer ${oneLine(f.arc.sealer ?? '?', 80)}, #${f.arc.field}, above the entry hop): dmarc=${f.arc.dmarc ?? 'none'} header.from=${oneLine(f.arc.dmarcFrom ?? '?', 80)}; ${rest(f.arc)}`,
      );
    }
    for (const n of f.notes) out.push(`   set aside: ${oneLine(n, 300)}`);
    if (r.provider.used) out.push(`   used: ${oneLine(r.provider.used, 300)}`);
    for (const n of r.provider.ignored) out.push(`   ${oneLine(n, 300)}`);
  }

  out.push(
    '',
    `5. Decision: ${r.decision.trusted ? 'TRUSTED' : 'NOT TRUSTED'} (${r.decision.code})${r.decision.temporary ? ' — temporary: the sweep would retry' : ''}`,
    `   ${oneLine(r.decision.reason, 2000)}`,
    '',
    '6. Addresses (whether one is already blocked is not known offline):',
  );
  if (r.extractionProblem) out.push(`   the message cannot be read: ${oneLine(r.extractionProblem, 300)}`);
  if (r.addresses.length === 0) out.push('   none found');
  else {
    out.push(
      table(
        r.addresses.map((a) => [
          `   ${a.value}`,
          a.outcome,
          oneLine(a.where, 40),
          a.outcome === 'block' ? '' : `${a.code ?? ''}: ${oneLine(a.reason ?? '', 160)}`,
        ]),
      ),
    );
  }
  return out.join('\n');
}

export function registerExplain(program: Command, env: () => Env, printer: () => Printer): void {
  program
    .command('explain <file>')
    .description('the trust gate on a saved message (.eml), step by step, and what each address would become; offline')
    .option('--at <time>', 'judge as of this time (ISO 8601), e.g. when the message arrived; default now')
    .action(async (file: string, opts: { at?: string }) => {
      const at = opts.at === undefined ? Date.now() : Date.parse(opts.at);
      if (Number.isNaN(at)) throw new UserError(`--at ${opts.at} is not a time (ISO 8601, e.g. 2026-11-20T10:00:00Z)`);
      const result = await explainFile(file, env(), at);
      // Exit 0 for a message that would block, 1 when it would not: scripts can test a sample.
      printer().result(result, formatExplain, !result.decision.trusted);
    });
}
