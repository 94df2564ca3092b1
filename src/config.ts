/**
 * The one place that reads the environment. Settings are validated with zod and every problem is reported at
 * once, with the variable to fix, so that a worker fails fast instead of failing on its first message.
 * Secrets come from the environment or from files (`*_FILE`), never from workflow inputs.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SCHEDULE_ID, DEFAULT_TASK_QUEUE } from './shared/constants';
import { DURATION_PATTERN, MAX_DURATION_TEXT, durationMs } from './shared/duration';
import { normalizeHostName, normalizeTrustedSender, type TrustConfig } from './policy/trust';
import { parseCidr, formatCidr } from './net/ip';
import type { SourceTtl } from './policy/source-ttl';
import type { BlockPolicy, Guardrails, NeverBlockRange, TargetRef } from './shared/types';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonEmpty = z.string().trim().min(1);
const emailList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().email()).min(1));
/** Temporal-style durations: 30s, 5m, 1h. */
const duration = z.string().superRefine((v, ctx) => {
  if (!DURATION_PATTERN.test(v)) ctx.addIssue({ code: 'custom', message: 'a duration such as 30s, 5m or 1h' });
  else if (durationMs(v) === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is longer than the maximum, ${MAX_DURATION_TEXT}` });
  }
});

const IP_SET_NAME = /^[\w-]{1,128}$/;
const TARGET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const targetSchema = z.object({
  WAF_TARGET_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('default'),
  WAF_SCOPE: z.enum(['REGIONAL', 'CLOUDFRONT']).default('REGIONAL'),
  AWS_REGION: nonEmpty,
  // Required unless WAF_TARGETS lists the targets (checked in toClientConfig, with the same message).
  WAF_IPSET_V4_NAME: z.string().regex(IP_SET_NAME, 'an IP set name (letters, digits, _ and -)').optional(),
  WAF_IPSET_V6_NAME: z.string().regex(IP_SET_NAME, 'an IP set name (letters, digits, _ and -)').optional(),
  /** Several targets: `name=SCOPE:region:v4-set:v6-set`, comma-separated. */
  WAF_TARGETS: z.string().optional(),
});

const clientSchema = targetSchema.extend({
  // Safety policy and guardrails: the CLI needs them too, because `block` may start a target's blocklist.
  NEVER_BLOCK: z.string().optional(),
  NEVER_BLOCK_FILE: z.string().optional(),
  MIN_PREFIX_V4: z.coerce.number().int().min(1).max(32).default(16),
  MIN_PREFIX_V6: z.coerce.number().int().min(1).max(128).default(32),
  MAX_NEW_PER_RUN: positiveInt.default(100),
  MAX_NEW_SHARE: z.coerce.number().gt(0).max(1).default(0.2),
  MAX_NEW_ADDRESSES_PER_RUN: positiveInt.default(4096),
  APPROVAL_TIMEOUT: duration.default('24h'),
  DRY_RUN: bool.default('false'),
  HOLD_FOR_APPROVAL: z
    .string()
    .default('reported-phish')
    .transform((v) =>
      v.trim() === 'none'
        ? []
        : v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
    )
    .pipe(z.array(z.enum(['reported-phish', 'untrusted-sender', 'auth-failed', 'not-via-mta']))),
  BLOCK_TTL: duration.default('30d'),
  SOURCE_TTL: z.string().optional(),
  RECONCILE_INTERVAL: duration.default('1h'),
  IPSET_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000).default(10_000),
  WHEN_FULL: z.enum(['refuse', 'evict']).default('refuse'),
  MAIL2WAF_TASK_QUEUE: nonEmpty.default(DEFAULT_TASK_QUEUE),
  IMAP_MAILBOX: nonEmpty.default('INBOX'),
  MAX_MESSAGES_PER_SWEEP: positiveInt.default(100),
  SWEEP_INTERVAL: duration.default('5m'),
  MAIL2WAF_SCHEDULE_ID: nonEmpty.default(DEFAULT_SCHEDULE_ID),
});

const workerSchema = clientSchema.extend({
  IMAP_HOST: nonEmpty,
  IMAP_PORT: port.default(993),
  IMAP_SECURE: bool.optional(),
  IMAP_USER: nonEmpty,
  IMAP_PASSWORD: nonEmpty,
  IMAP_ALLOW_PLAINTEXT: bool.default('false'),
  IMAP_PROCESSED_MAILBOX: nonEmpty.default('Processed'),
  IMAP_QUARANTINE_MAILBOX: nonEmpty.default('Quarantine'),
  MAX_MESSAGE_BYTES: positiveInt.default(25 * 1024 * 1024),
  SMTP_HOST: nonEmpty,
  SMTP_PORT: port.default(587),
  SMTP_SECURE: bool.optional(),
  SMTP_USER: nonEmpty.optional(),
  SMTP_PASSWORD: nonEmpty.optional(),
  SMTP_ALLOW_PLAINTEXT: bool.default('false'),
  REPORT_FROM: z.string().email(),
  REPORT_TO: emailList,
  AWS_ENDPOINT_URL_WAFV2: z.string().url().optional(),
  // Trust gate (src/policy/trust.ts): who may block automatically, and where their mail is authenticated.
  TRUSTED_SENDERS: nameList('an address (user@domain), a domain or *.domain', normalizeTrustedSender),
  MTA_HOSTS: nameList('a host name', normalizeHostName),
  TRUSTED_ARC_SEALERS: nameList('a domain', normalizeHostName),
  DNS_RECORDS_FILE: nonEmpty.optional(),
});

export interface ClientConfig {
  /** The target that CLI commands act on (the first one, or the one named by --target). */
  target: TargetRef;
  /** Every configured target; a sweep blocks into all of them. */
  targets: TargetRef[];
  policy: BlockPolicy;
  guardrails: Guardrails;
  dryRun: boolean;
  /** Trust-gate reason codes whose messages wait for approval instead of going straight to Quarantine. */
  holdForApproval: string[];
  /** Per-sender time to live (SOURCE_TTL). */
  sourceTtls: SourceTtl[];
  taskQueue: string;
  mailbox: string;
  maxMessagesPerSweep: number;
  sweepInterval: string;
  scheduleId: string;
}

export interface WorkerConfig extends ClientConfig {
  /** allowPlaintext: IMAP_ALLOW_PLAINTEXT (TLS is otherwise required except on loopback, see activities/mail-tls.ts). */
  imap: { host: string; port: number; secure: boolean; user: string; password: string; allowPlaintext: boolean };
  processedMailbox: string;
  quarantineMailbox: string;
  maxMessageBytes: number;
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string; allowPlaintext: boolean };
  report: { from: string; to: string[] };
  aws: { region: string; wafEndpoint?: string };
  /** Trust gate settings; dnsRecordsFile replaces the real DNS (local stack and tests only). */
  trust: TrustConfig & { dnsRecordsFile?: string };
}

/** `X_FILE=/path` stands for `X=<contents of file>`: the usual way to pass secrets from a secret store. */
function withSecretFiles(env: Env, keys: string[]): Env {
  const out: Env = { ...env };
  for (const key of keys) {
    const file = env[`${key}_FILE`];
    if (!out[key] && file) {
      try {
        out[key] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new ConfigError([`${key}_FILE=${file} cannot be read (${(err as Error).message})`]);
      }
    }
  }
  // Empty strings mean "not set": `FOO=` in an env file should not count as a value.
  for (const [k, v] of Object.entries(out)) if (v === '') delete out[k];
  return out;
}

function parse<S extends z.ZodTypeAny>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const key = i.path.join('.');
        return env[key] === undefined ? `${key} is not set` : `${key}: ${i.message}`;
      }),
    );
  }
  return result.data;
}

/** A duration the schema already validated. */
function ms(text: string): number {
  return durationMs(text)!;
}

/**
 * Never-block ranges from NEVER_BLOCK (comma list) and NEVER_BLOCK_FILE (one CIDR a line, `#` comments, an
 * optional label after the CIDR). Every bad line is reported with its place, because a typo here would
 * silently leave one of our own networks blockable.
 */
function neverBlockRanges(c: { NEVER_BLOCK?: string; NEVER_BLOCK_FILE?: string }): NeverBlockRange[] {
  const ranges: NeverBlockRange[] = [];
  const problems: string[] = [];
  const add = (raw: string, label: string, where: string) => {
    const parsed = parseCidr(raw);
    if (!parsed) problems.push(`${where}: "${raw}" is not an IP address or CIDR`);
    else ranges.push({ cidr: formatCidr(parsed), label });
  };
  for (const item of (c.NEVER_BLOCK ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    add(item, 'NEVER_BLOCK', 'NEVER_BLOCK');
  }
  if (c.NEVER_BLOCK_FILE) {
    let text: string;
    try {
      text = readFileSync(c.NEVER_BLOCK_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([`NEVER_BLOCK_FILE=${c.NEVER_BLOCK_FILE} cannot be read (${(err as Error).message})`]);
    }
    text.split('\n').forEach((line, i) => {
      const content = line.replace(/#.*/, '').trim();
      if (!content) return;
      const [cidr, ...label] = content.split(/\s+/);
      add(cidr!, label.join(' ') || `${c.NEVER_BLOCK_FILE}:${i + 1}`, `NEVER_BLOCK_FILE line ${i + 1}`);
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return ranges;
}

/** SOURCE_TTL: `cert.example=90d,alerts@scanner.example=3d,partner.example=permanent`. */
function sourceTtls(text: string | undefined): SourceTtl[] {
  const rules: SourceTtl[] = [];
  const problems: string[] = [];
  for (const item of (text ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+)=(\d+(?:ms|s|m|h|d)|permanent)$/.exec(item);
    if (!m || !/^([^@\s]+@)?[a-z0-9.-]+\.[a-z]{2,}$/i.test(m[1]!)) {
      problems.push(`SOURCE_TTL: "${item}" is not sender=duration (a duration like 7d, or "permanent")`);
      continue;
    }
    if (m[2] !== 'permanent' && durationMs(m[2]!) === undefined) {
      problems.push(`SOURCE_TTL: "${item}" is longer than the maximum, ${MAX_DURATION_TEXT} (or say "permanent")`);
      continue;
    }
    rules.push({ match: m[1]!.toLowerCase(), ttlMs: m[2] === 'permanent' ? null : ms(m[2]!) });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return rules;
}

/** CloudFront IP sets always live in us-east-1, whatever region the rest of the account uses. */
function regionFor(scope: TargetRef['scope'], region: string): string {
  return scope === 'CLOUDFRONT' ? 'us-east-1' : region;
}

function targetsOf(c: z.infer<typeof clientSchema>): TargetRef[] {
  if (!c.WAF_TARGETS) {
    const problems = [
      ...(c.WAF_IPSET_V4_NAME ? [] : ['WAF_IPSET_V4_NAME is not set']),
      ...(c.WAF_IPSET_V6_NAME ? [] : ['WAF_IPSET_V6_NAME is not set']),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    return [
      {
        name: c.WAF_TARGET_NAME,
        scope: c.WAF_SCOPE,
        region: regionFor(c.WAF_SCOPE, c.AWS_REGION),
        ipSetV4Name: c.WAF_IPSET_V4_NAME!,
        ipSetV6Name: c.WAF_IPSET_V6_NAME!,
      },
    ];
  }
  const targets: TargetRef[] = [];
  const problems: string[] = [];
  for (const item of c.WAF_TARGETS.split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([^=]+)=(REGIONAL|CLOUDFRONT):([a-z0-9-]*):([\w-]+):([\w-]+)$/.exec(item);
    if (!m || !TARGET_NAME.test(m[1]!) || !IP_SET_NAME.test(m[4]!) || !IP_SET_NAME.test(m[5]!)) {
      problems.push(`WAF_TARGETS: "${item}" is not name=REGIONAL|CLOUDFRONT:region:v4-set:v6-set`);
      continue;
    }
    const scope = m[2] as TargetRef['scope'];
    if (targets.some((t) => t.name === m[1])) problems.push(`WAF_TARGETS: target "${m[1]}" is listed twice`);
    targets.push({
      name: m[1]!,
      scope,
      region: regionFor(scope, m[3] || c.AWS_REGION),
      ipSetV4Name: m[4]!,
      ipSetV6Name: m[5]!,
    });
  }
  if (targets.length === 0 && problems.length === 0) problems.push('WAF_TARGETS lists no target');
  if (problems.length > 0) throw new ConfigError(problems);
  return targets;
}

function toClientConfig(c: z.infer<typeof clientSchema>): ClientConfig {
  const targets = targetsOf(c);
  return {
    policy: {
      neverBlock: neverBlockRanges(c),
      minPrefixV4: c.MIN_PREFIX_V4,
      minPrefixV6: c.MIN_PREFIX_V6,
      ttlMs: ms(c.BLOCK_TTL),
      reconcileMs: ms(c.RECONCILE_INTERVAL),
      maxEntriesPerSet: c.IPSET_MAX_ENTRIES,
      whenFull: c.WHEN_FULL,
    },
    guardrails: {
      maxNewPerRun: c.MAX_NEW_PER_RUN,
      maxNewShare: c.MAX_NEW_SHARE,
      maxNewAddressesPerRun: c.MAX_NEW_ADDRESSES_PER_RUN,
      approvalTimeoutMs: ms(c.APPROVAL_TIMEOUT),
    },
    dryRun: c.DRY_RUN,
    holdForApproval: c.HOLD_FOR_APPROVAL,
    sourceTtls: sourceTtls(c.SOURCE_TTL),
    target: targets[0]!,
    targets,
    taskQueue: c.MAIL2WAF_TASK_QUEUE,
    mailbox: c.IMAP_MAILBOX,
    maxMessagesPerSweep: c.MAX_MESSAGES_PER_SWEEP,
    sweepInterval: c.SWEEP_INTERVAL,
    scheduleId: c.MAIL2WAF_SCHEDULE_ID,
  };
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  return toClientConfig(parse(clientSchema, withSecretFiles(env, [])));
}

/** A comma list of names, each checked and canonicalised by `normalize`; every bad entry is one problem. */
function nameList(what: string, normalize: (entry: string) => string | undefined) {
  return z
    .string()
    .default('')
    .transform((s, ctx) => {
      const out: string[] = [];
      for (const entry of s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const n = normalize(entry);
        if (n === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${entry}" is not ${what}` });
        else if (!out.includes(n)) out.push(n);
      }
      return out;
    });
}

/** The trust gate's settings; a trusted sender list is useless without our MTA's names (SPF needs the client IP). */
function trustConfig(c: {
  TRUSTED_SENDERS: string[];
  MTA_HOSTS: string[];
  TRUSTED_ARC_SEALERS: string[];
  DNS_RECORDS_FILE?: string;
}): WorkerConfig['trust'] {
  if (c.TRUSTED_SENDERS.length > 0 && c.MTA_HOSTS.length === 0) {
    throw new ConfigError([
      'TRUSTED_SENDERS is set but MTA_HOSTS is not: list the host names your mail server writes after "by" in Received lines',
    ]);
  }
  const trust: WorkerConfig['trust'] = {
    trustedSenders: c.TRUSTED_SENDERS,
    mtaHosts: c.MTA_HOSTS,
    trustedArcSealers: c.TRUSTED_ARC_SEALERS,
  };
  if (c.DNS_RECORDS_FILE) trust.dnsRecordsFile = c.DNS_RECORDS_FILE;
  return trust;
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const c = parse(workerSchema, withSecretFiles(env, ['IMAP_PASSWORD', 'SMTP_PASSWORD']));
  if (c.SMTP_USER && !c.SMTP_PASSWORD) throw new ConfigError(['SMTP_USER is set but SMTP_PASSWORD is not']);
  return {
    ...toClientConfig(c),
    imap: {
      host: c.IMAP_HOST,
      port: c.IMAP_PORT,
      secure: c.IMAP_SECURE ?? c.IMAP_PORT === 993,
      user: c.IMAP_USER,
      password: c.IMAP_PASSWORD,
      allowPlaintext: c.IMAP_ALLOW_PLAINTEXT,
    },
    processedMailbox: c.IMAP_PROCESSED_MAILBOX,
    quarantineMailbox: c.IMAP_QUARANTINE_MAILBOX,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    smtp: {
      host: c.SMTP_HOST,
      port: c.SMTP_PORT,
      secure: c.SMTP_SECURE ?? c.SMTP_PORT === 465,
      user: c.SMTP_USER,
      password: c.SMTP_PASSWORD,
      allowPlaintext: c.SMTP_ALLOW_PLAINTEXT,
    },
    report: { from: c.REPORT_FROM, to: c.REPORT_TO },
    aws: { region: c.AWS_REGION, wafEndpoint: c.AWS_ENDPOINT_URL_WAFV2 },
    trust: trustConfig(c),
  };
}
