/**
 * The one place that reads the environment and the settings file. Settings are validated with zod and every
 * problem is reported at once, with the variable to fix, so that a worker fails fast instead of failing on its
 * first message. Secrets come from the environment or from files (`*_FILE`), never from the settings file and
 * never from workflow inputs.
 *
 * MAIL2WAF_CONFIG names an optional YAML file with the long settings (targets, trusted senders, never-block
 * lists…) under the same names as the environment variables; a variable set in the environment wins over the
 * file, key by key.
 */
import { readFileSync } from 'node:fs';
import type * as Yaml from 'yaml';
import { z } from 'zod';
import { DEFAULT_SCHEDULE_ID, DEFAULT_TASK_QUEUE } from './shared/constants';
import { DEFAULT_MAX_NEW_ADDRESSES_PER_RUN } from './policy/guardrails';
import { DURATION_PATTERN, MAX_DURATION_TEXT, durationMs } from './shared/duration';
import { normalizeHostName, normalizeHostPattern, normalizeTrustedSender, type TrustConfig } from './policy/trust';
import { parseCidr, formatCidr } from './net/ip';
import type { SourceTtl } from './policy/source-ttl';
import type { VersioningConfig } from './versioning';
import { deriveSearchKey, parsePayloadKeys, PayloadKeysError, type PayloadKeyRing } from './codec/keys';
import type { BlockPolicy, Guardrails, NeverBlockRange, SweepPolicy, TargetRef } from './shared/types';
import { createMailOAuth2, ENTRA_AUTHORITY, ENTRA_SCOPE, GOOGLE_SCOPE, type MailOAuth2 } from './oauth';

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
  MAX_NEW_ADDRESSES_PER_RUN: positiveInt.default(DEFAULT_MAX_NEW_ADDRESSES_PER_RUN),
  APPROVAL_TIMEOUT: duration.default('24h'),
  DRY_RUN: bool.default('false'),
  SEARCH_ATTRIBUTES: bool.default('true'),
  /** HMAC key of search attribute values: 32 random bytes, base64 or hex (see activities/search-keys.ts). */
  SEARCH_KEY: nonEmpty.optional(),
  /** Payload encryption keys, `id:<base64 32 bytes>,…`, the first one current (src/codec/keys.ts). */
  PAYLOAD_KEYS: nonEmpty.optional(),
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
    .pipe(
      z.array(
        z.enum([
          'reported-phish',
          'untrusted-sender',
          'auth-failed',
          'not-via-mta',
          'ambiguous-headers',
          'too-many-signatures',
          'stale-advisory',
        ]),
      ),
    ),
  BLOCK_TTL: duration.default('30d'),
  SOURCE_TTL: z.string().optional(),
  RECONCILE_INTERVAL: duration.default('1h'),
  // A blocklist whose writes to WAF keep failing this long raises the `sync-failing:<target>` alert.
  ALERT_SYNC_FAILING_AFTER: duration.default('15m'),
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
  // Required when IMAP logs in with a password (checked in mailAuth, with the same message).
  IMAP_PASSWORD: nonEmpty.optional(),
  // Mail login: a password or OAuth2 (src/oauth/), for both protocols (MAIL_AUTH) or each (IMAP_AUTH, SMTP_AUTH).
  MAIL_AUTH: z.enum(['password', 'oauth2']).default('password'),
  IMAP_AUTH: z.enum(['password', 'oauth2']).optional(),
  SMTP_AUTH: z.enum(['password', 'oauth2']).optional(),
  OAUTH2_PROVIDER: z.enum(['entra', 'google', 'refresh-token']).optional(),
  OAUTH2_TENANT_ID: nonEmpty.optional(),
  OAUTH2_CLIENT_ID: nonEmpty.optional(),
  OAUTH2_CLIENT_SECRET: nonEmpty.optional(),
  OAUTH2_CLIENT_CERT_FILE: nonEmpty.optional(),
  OAUTH2_CLIENT_KEY_FILE: nonEmpty.optional(),
  OAUTH2_AUTHORITY: z.string().url().optional(),
  OAUTH2_SCOPE: nonEmpty.optional(),
  OAUTH2_TOKEN_URL: z.string().url().optional(),
  OAUTH2_REFRESH_TOKEN: nonEmpty.optional(),
  GOOGLE_SERVICE_ACCOUNT_FILE: nonEmpty.optional(),
  IMAP_ALLOW_PLAINTEXT: bool.default('false'),
  IMAP_PROCESSED_MAILBOX: nonEmpty.default('Processed'),
  IMAP_QUARANTINE_MAILBOX: nonEmpty.default('Quarantine'),
  MAX_MESSAGE_BYTES: positiveInt.default(25 * 1024 * 1024),
  // Health listener (src/health.ts): /livez, /readyz (and later /metrics). Loopback unless told otherwise: the
  // image sets HEALTH_HOST=0.0.0.0 so that kubelet probes and scrapers reach it. `off` or 0 turns it off.
  HEALTH_PORT: z
    .string()
    .trim()
    .default('9464')
    .refine((v) => v === 'off' || (/^\d{1,5}$/.test(v) && Number(v) <= 65535), 'a port number, or off')
    .transform((v) => (v === 'off' || Number(v) === 0 ? undefined : Number(v))),
  HEALTH_HOST: nonEmpty.default('127.0.0.1'),
  HEALTH_CHECK_INTERVAL: duration.default('60s'),
  // Logs (src/logging.ts): JSON lines on stdout, or text when stdout is a terminal; LOG_FORMAT decides otherwise.
  LOG_LEVEL: z
    .string()
    .trim()
    .default('INFO')
    .transform((v) => (v.toUpperCase() === 'WARNING' ? 'WARN' : v.toUpperCase()))
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'])),
  LOG_FORMAT: z.enum(['json', 'text']).optional(),
  // How long a SIGTERM waits for in-flight activities before cancelling them (they are retried elsewhere).
  SHUTDOWN_GRACE: duration.default('30s'),
  // Mailbox watch (src/watch/): sweep within a second of new mail (IMAP IDLE, else polling); the Schedule is the
  // backstop. Off: only the Schedule and `mail2waf run` start sweeps.
  WATCH_MAILBOX: bool.default('true'),
  WATCH_DEBOUNCE: duration.default('300ms'),
  WATCH_POLL_INTERVAL: duration.default('5s'),
  // Worker Deployment Versioning (src/versioning.ts): on when a deployment name is set. The build id defaults to
  // the package version and a hash of the workflow code; WORKER_PROMOTE says when a starting worker makes its build
  // current (first: only when the deployment has none; always; never: an operator promotes).
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/, 'letters, digits, . _ - only')
    .optional(),
  WORKER_BUILD_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.+-]{1,200}$/, 'letters, digits, . _ + - only')
    .optional(),
  WORKER_PROMOTE: z.enum(['first', 'always', 'never']).default('first'),
  SMTP_HOST: nonEmpty,
  SMTP_PORT: port.default(587),
  SMTP_SECURE: bool.optional(),
  SMTP_USER: nonEmpty.optional(),
  SMTP_PASSWORD: nonEmpty.optional(),
  SMTP_ALLOW_PLAINTEXT: bool.default('false'),
  REPORT_FROM: z.string().email(),
  REPORT_TO: emailList,
  // Failure alerts (src/workflows/alerts.ts): to ALERT_TO (else REPORT_TO), and a POST of {"text": …} to the
  // webhook when set (Slack and Microsoft Teams incoming webhooks accept that shape).
  ALERT_TO: emailList.optional(),
  ALERT_WEBHOOK_URL: z.string().url().optional(),
  AWS_ENDPOINT_URL_WAFV2: z.string().url().optional(),
  // Trust gate (src/policy/trust.ts): who may block automatically, and where their mail is authenticated.
  // `none`: nobody may block automatically, said on purpose (every advisory held); an empty list refuses to start.
  TRUSTED_SENDERS: nameList('an address (user@domain), a domain or *.domain', (e) =>
    e.toLowerCase() === 'none' ? 'none' : normalizeTrustedSender(e),
  ),
  ALLOW_NO_TRUSTED_SENDERS: bool.default('false'),
  MTA_HOSTS: nameList('a host name', normalizeHostPattern),
  TRUSTED_ARC_SEALERS: nameList('a domain', normalizeHostName),
  // Hosted mail: the provider's Authentication-Results written above the entry hop count (src/policy/trust.ts).
  TRUSTED_AUTHSERV_IDS: nameList('an authserv-id (a host name such as mx.google.com)', normalizeHostName),
  DNS_RECORDS_FILE: nonEmpty.optional(),
  // Older authenticated advisories are replays (stale-advisory): the signature time t=, else a signed Date.
  MAX_ADVISORY_AGE: duration.default('7d'),
  // Only `mail2waf doctor` uses these: the DKIM keys it checks in DNS (`domain=selector`, comma-separated).
  DKIM_SELECTORS: z.string().optional(),
});

export interface ClientConfig {
  /** The target that CLI commands act on (the first one, or the one named by --target). */
  target: TargetRef;
  /** Every configured target; a sweep blocks into all of them. */
  targets: TargetRef[];
  policy: BlockPolicy;
  guardrails: Guardrails;
  dryRun: boolean;
  /** SEARCH_ATTRIBUTES: sweeps set the Mail2waf* search attributes (registered on the namespace). */
  searchAttributes: boolean;
  /** HMAC key for search attribute values (SEARCH_KEY); absent: values are stored in clear. */
  searchKey?: Buffer;
  /** PAYLOAD_KEYS: payloads are encrypted (src/codec/); absent: the SDK's default converter, payloads in clear. */
  payloadKeys?: PayloadKeyRing;
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
  imap: {
    host: string;
    port: number;
    secure: boolean;
    user: string;
    /** Set when IMAP logs in with a password; `oauth2` when it logs in with tokens. */
    password?: string;
    oauth2?: MailOAuth2;
    allowPlaintext: boolean;
  };
  processedMailbox: string;
  quarantineMailbox: string;
  maxMessageBytes: number;
  smtp: {
    host: string;
    port: number;
    secure: boolean;
    user?: string;
    password?: string;
    /** SMTP_AUTH=oauth2: XOAUTH2 as `user` (SMTP_USER, else IMAP_USER) with tokens from the same source as IMAP. */
    oauth2?: MailOAuth2;
    allowPlaintext: boolean;
  };
  report: { from: string; to: string[] };
  /** Failure alerts: recipients (ALERT_TO, else the report's) and the optional webhook (ALERT_WEBHOOK_URL). */
  alerts: { to?: string[]; webhookUrl?: string };
  aws: { region: string; wafEndpoint?: string };
  /** Trust gate settings; dnsRecordsFile replaces the real DNS (local stack and tests only). */
  trust: TrustConfig & { dnsRecordsFile?: string };
  /** DKIM selectors per trusted domain (DKIM_SELECTORS): what `mail2waf doctor` looks up in DNS. */
  dkimSelectors: { domain: string; selector: string }[];
  /** Where the settings came from: the settings file (if any) and the keys it provided that the environment did not. */
  source: SettingsSource;
  /** The health listener (port undefined: off) and how often it re-checks Temporal, IMAP and WAF. */
  health: { port?: number; host: string; checkIntervalMs: number };
  /** LOG_LEVEL, and LOG_FORMAT when set (else JSON unless stdout is a terminal: src/logging.ts). */
  log: { level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'; format?: 'json' | 'text' };
  /** SHUTDOWN_GRACE: time in-flight activities get to finish after SIGTERM. */
  shutdownGraceMs: number;
  /** The mailbox watch: WATCH_MAILBOX, WATCH_DEBOUNCE, WATCH_POLL_INTERVAL (when the server has no IDLE). */
  watch: { enabled: boolean; debounceMs: number; pollIntervalMs: number };
  /** Worker Deployment Versioning (WORKER_DEPLOYMENT_NAME set); absent: an unversioned worker. */
  versioning?: VersioningConfig;
}

/** A key given as base64 or hex, at least 16 bytes (32 recommended); a clear error otherwise. */
function keyBytes(name: string, text: string): Buffer {
  const t = text.trim();
  const bytes = /^[0-9a-f]+$/i.test(t) && t.length % 2 === 0 ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length < 16) {
    throw new ConfigError([`${name} must be at least 16 random bytes, base64 or hex (e.g. openssl rand -base64 32)`]);
  }
  return bytes;
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

function parse<S extends z.ZodTypeAny>(schema: S, env: Env, source?: SettingsSource): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const key = i.path.join('.');
        if (env[key] === undefined) return `${key} is not set`;
        // A value from the settings file is named with the file, so the operator knows where to fix it.
        return source?.fromFile.includes(key) ? `${key} (in ${source.file}): ${i.message}` : `${key}: ${i.message}`;
      }),
    );
  }
  return result.data;
}

/** Where the settings came from: the file MAIL2WAF_CONFIG names (if any) and the keys taken from it. */
export interface SettingsSource {
  file?: string;
  /** Keys whose value came from the file (the environment did not set them). */
  fromFile: string[];
  /** Keys the file set that the environment overrode. */
  overridden: string[];
}

/**
 * Secret values never live in the settings file (it is the kind of file that gets committed or put in a
 * ConfigMap): the file may name a file holding the secret (`IMAP_PASSWORD_FILE`), the value comes from there.
 */
const SECRET_KEYS = [
  'IMAP_PASSWORD',
  'SMTP_PASSWORD',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'TEMPORAL_API_KEY',
  'SEARCH_KEY',
  'OAUTH2_CLIENT_SECRET',
  'OAUTH2_REFRESH_TOKEN',
  'PAYLOAD_KEYS',
  'CODEC_SERVER_TOKEN',
  // A Slack or Teams webhook URL carries the hook's token: whoever has it can post as us.
  'ALERT_WEBHOOK_URL',
];

/**
 * The values of every secret setting, from the environment or its `*_FILE`: what the worker's log must never
 * show (src/logging.ts redacts them). PAYLOAD_KEYS also gives each key alone.
 */
export function secretSettingValues(env: Env = process.env): string[] {
  const e = withSecretFiles(settingsOf(env).env, SECRET_KEYS);
  const values = SECRET_KEYS.map((k) => e[k]).filter((v): v is string => typeof v === 'string');
  const keys = (e.PAYLOAD_KEYS ?? '').split(/[,\n]/).map((k) => k.slice(k.indexOf(':') + 1).trim());
  return [...values, ...keys];
}

/** Keys the settings file may set: every setting of the worker's schema, and the secret-file forms. */
function fileKeys(): Set<string> {
  return new Set([
    ...Object.keys(workerSchema.shape).filter((k) => !SECRET_KEYS.includes(k)),
    'IMAP_PASSWORD_FILE',
    'SMTP_PASSWORD_FILE',
    'SEARCH_KEY_FILE',
    'OAUTH2_CLIENT_SECRET_FILE',
    'OAUTH2_REFRESH_TOKEN_FILE',
    'PAYLOAD_KEYS_FILE',
    'CODEC_SERVER_TOKEN_FILE',
    'ALERT_WEBHOOK_URL_FILE',
    'CODEC_SERVER_PORT',
    'CODEC_SERVER_HOST',
    'CODEC_CORS_ORIGIN',
  ]);
}

/** A YAML scalar as the environment would spell it; undefined for something that is not a scalar. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One value of the settings file in its environment spelling. Lists may be YAML sequences; `k=v` lists
 * (SOURCE_TTL, DKIM_SELECTORS, NEVER_BLOCK labels) may be mappings; WAF_TARGETS may be a mapping of target
 * name to `{scope, region, ipSetV4, ipSetV6}`.
 */
function fileValue(key: string, v: unknown, at: string, problems: string[]): string | undefined {
  if (v === null || v === undefined) return undefined;
  const scalar = scalarText(v);
  if (scalar !== undefined) return scalar;
  const item = (x: unknown, where: string): string | undefined => {
    const s = scalarText(x);
    if (s === undefined) problems.push(`${at}: ${where} is not a single value`);
    else if (s.includes(',')) problems.push(`${at}: ${where} "${s}" contains a comma (give each one as its own item)`);
    else return s;
    return undefined;
  };
  const joined = (items: (string | undefined)[]) => items.filter((x): x is string => x !== undefined).join(',');
  if (Array.isArray(v)) {
    if (key === 'WAF_TARGETS') {
      return joined(
        v.map((t, i) => (isRecord(t) ? targetText(undefined, t, `${at}[${i}]`, problems) : item(t, `[${i}]`))),
      );
    }
    return joined(v.map((x, i) => item(x, `[${i}]`)));
  }
  if (isRecord(v)) {
    if (key === 'WAF_TARGETS') {
      return joined(Object.entries(v).map(([name, t]) => targetText(name, t, `${at}.${name}`, problems)));
    }
    if (key === 'SOURCE_TTL' || key === 'DKIM_SELECTORS' || key === 'NEVER_BLOCK') {
      const sep = key === 'NEVER_BLOCK' ? ' ' : '=';
      const pairs: string[] = [];
      for (const [k, val] of Object.entries(v)) {
        const values = Array.isArray(val) ? val : [val];
        for (const [i, x] of values.entries()) {
          const s = item(x, Array.isArray(val) ? `${k}[${i}]` : k);
          if (s !== undefined) pairs.push(`${k}${sep}${s}`);
        }
      }
      return pairs.join(',');
    }
  }
  problems.push(`${at}: expected a value or a list of values`);
  return undefined;
}

/** A WAF_TARGETS entry of the settings file → `name=SCOPE:region:v4-set:v6-set`. */
function targetText(name: string | undefined, t: unknown, at: string, problems: string[]): string | undefined {
  if (!isRecord(t)) {
    problems.push(`${at}: expected {scope, region, ipSetV4, ipSetV6}`);
    return undefined;
  }
  const unknown = Object.keys(t).filter((k) => !['name', 'scope', 'region', 'ipSetV4', 'ipSetV6'].includes(k));
  if (unknown.length > 0)
    problems.push(`${at}: unknown key(s) ${unknown.join(', ')} (name, scope, region, ipSetV4, ipSetV6)`);
  const field = (k: string) => scalarText(t[k]) ?? '';
  const n = name ?? field('name');
  if (!n) problems.push(`${at}: the target has no name`);
  return `${n}=${field('scope') || 'REGIONAL'}:${field('region')}:${field('ipSetV4')}:${field('ipSetV6')}`;
}

/** Reads MAIL2WAF_CONFIG: a YAML mapping of setting names to values, every problem named with the file and key. */
export function readSettingsFile(file: string): Env {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`MAIL2WAF_CONFIG=${file} cannot be read (${(err as Error).message})`]);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a file is named
  const yaml = require('yaml') as typeof Yaml;
  const doc = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}: not valid YAML: ${e.message.split('\n')[0]}`));
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) throw new ConfigError([`${file}: expected a mapping of setting names to values`]);
  const allowed = fileKeys();
  const problems: string[] = [];
  const out: Env = {};
  for (const [key, value] of Object.entries(data)) {
    const at = `${file}: ${key}`;
    if (SECRET_KEYS.includes(key)) {
      problems.push(`${at}: secrets do not belong in the settings file — set ${key} in the environment or ${key}_FILE`);
      continue;
    }
    if (!allowed.has(key)) {
      const near = [...allowed].find((k) => k === key.toUpperCase().replace(/[-.]/g, '_'));
      problems.push(`${at}: not a mail2waf setting${near ? ` (did you mean ${near}?)` : ''}`);
      continue;
    }
    const text = fileValue(key, value, at, problems);
    if (text !== undefined && text !== '') out[key] = text;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * The settings file (if MAIL2WAF_CONFIG names one) under the environment: a variable set to a non-empty value in
 * the environment wins over the file, key by key.
 */
export function settingsOf(env: Env): { env: Env; source: SettingsSource } {
  const file = env.MAIL2WAF_CONFIG?.trim();
  if (!file) return { env, source: { fromFile: [], overridden: [] } };
  const fromFile = readSettingsFile(file);
  const merged: Env = { ...fromFile };
  const overridden: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    if (k in fromFile) overridden.push(k);
    merged[k] = v;
  }
  return {
    env: merged,
    source: { file, fromFile: Object.keys(fromFile).filter((k) => !overridden.includes(k)), overridden },
  };
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
    // `198.51.100.0/24 office VPN`: an optional label after the CIDR (the settings file's `cidr: label` form).
    const [cidr, ...label] = item.split(/\s+/);
    add(cidr!, label.join(' ') || 'NEVER_BLOCK', 'NEVER_BLOCK');
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

/** PAYLOAD_KEYS as a key ring; a clear error naming the setting otherwise. */
function payloadKeyRing(text: string): PayloadKeyRing {
  try {
    return parsePayloadKeys(text);
  } catch (err) {
    if (err instanceof PayloadKeysError) throw new ConfigError(err.problems.map((p) => `PAYLOAD_KEYS: ${p}`));
    throw err;
  }
}

/**
 * The payload keys and the search attribute key. With payload keys and no SEARCH_KEY, the search key is derived
 * from the current payload key, so that an encrypted history never sits next to readable search attributes.
 */
function payloadAndSearchKeys(c: { PAYLOAD_KEYS?: string; SEARCH_KEY?: string }) {
  const payloadKeys = c.PAYLOAD_KEYS ? payloadKeyRing(c.PAYLOAD_KEYS) : undefined;
  const searchKey = c.SEARCH_KEY
    ? keyBytes('SEARCH_KEY', c.SEARCH_KEY)
    : payloadKeys
      ? deriveSearchKey(payloadKeys)
      : undefined;
  return { ...(payloadKeys ? { payloadKeys } : {}), ...(searchKey ? { searchKey } : {}) };
}

/**
 * PAYLOAD_KEYS (or PAYLOAD_KEYS_FILE) alone: what every Temporal client needs for its data converter, including
 * the read-only commands that load no other setting. Undefined when no key is set.
 */
export function loadPayloadKeys(env: Env = process.env): PayloadKeyRing | undefined {
  const settings = settingsOf(env);
  const text = withSecretFiles(settings.env, ['PAYLOAD_KEYS']).PAYLOAD_KEYS;
  return text ? payloadKeyRing(text) : undefined;
}

/** `mail2waf codec-server`: where it listens, who may call it, and which Web UI may call it from a browser. */
export interface CodecServerConfig {
  host: string;
  port: number;
  /** CODEC_SERVER_TOKEN; undefined only with --insecure-no-auth (loopback). */
  token?: string;
  /** Origins allowed by CORS (CODEC_CORS_ORIGIN, comma-separated). */
  corsOrigins: string[];
  keys: PayloadKeyRing;
}

const codecServerSchema = z.object({
  CODEC_SERVER_HOST: nonEmpty.default('127.0.0.1'),
  // 0: any free port (tests; the server prints the one it got).
  CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65535).default(8234),
  CODEC_SERVER_TOKEN: z.string().trim().min(16, 'at least 16 characters (e.g. openssl rand -hex 32)').optional(),
  CODEC_CORS_ORIGIN: z
    .string()
    .default('http://127.0.0.1:8233')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin such as https://temporal.example.com'))),
  PAYLOAD_KEYS: nonEmpty.optional(),
});

/** Flags override the environment; the token and the keys are required (the token unless `insecureNoAuth`). */
export function loadCodecServerConfig(
  env: Env = process.env,
  flags: { port?: string; host?: string; insecureNoAuth?: boolean } = {},
): CodecServerConfig {
  const settings = settingsOf(env);
  const merged: Env = {
    ...withSecretFiles(settings.env, ['CODEC_SERVER_TOKEN', 'PAYLOAD_KEYS']),
    ...(flags.port ? { CODEC_SERVER_PORT: flags.port } : {}),
    ...(flags.host ? { CODEC_SERVER_HOST: flags.host } : {}),
  };
  const c = parse(codecServerSchema, merged, settings.source);
  const problems: string[] = [];
  if (!c.PAYLOAD_KEYS) problems.push("PAYLOAD_KEYS is not set: the codec server decrypts with the workers' keys");
  if (!c.CODEC_SERVER_TOKEN && !flags.insecureNoAuth) {
    problems.push('CODEC_SERVER_TOKEN is not set (callers send it as Authorization: Bearer <token>)');
  }
  if (flags.insecureNoAuth && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(c.CODEC_SERVER_HOST)) {
    problems.push(`--insecure-no-auth is for loopback only; CODEC_SERVER_HOST is ${c.CODEC_SERVER_HOST}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host: c.CODEC_SERVER_HOST,
    port: c.CODEC_SERVER_PORT,
    ...(c.CODEC_SERVER_TOKEN && !flags.insecureNoAuth ? { token: c.CODEC_SERVER_TOKEN } : {}),
    corsOrigins: c.CODEC_CORS_ORIGIN,
    keys: payloadKeyRing(c.PAYLOAD_KEYS!),
  };
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
      syncAlertAfterMs: ms(c.ALERT_SYNC_FAILING_AFTER),
    },
    guardrails: {
      maxNewPerRun: c.MAX_NEW_PER_RUN,
      maxNewShare: c.MAX_NEW_SHARE,
      maxNewAddressesPerRun: c.MAX_NEW_ADDRESSES_PER_RUN,
      approvalTimeoutMs: ms(c.APPROVAL_TIMEOUT),
    },
    dryRun: c.DRY_RUN,
    searchAttributes: c.SEARCH_ATTRIBUTES,
    ...payloadAndSearchKeys(c),
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
  const settings = settingsOf(env);
  return toClientConfig(
    parse(clientSchema, withSecretFiles(settings.env, ['SEARCH_KEY', 'PAYLOAD_KEYS']), settings.source),
  );
}

/** What read-only CLI commands (list, why, status, schedule describe, approvals) need besides Temporal's settings. */
export interface ReadConfig {
  /** Target names only: a read goes to the target's blocklist workflow, never to AWS. */
  targets: { name: string }[];
  target: { name: string };
  taskQueue: string;
  scheduleId: string;
  mailbox: string;
  /** HMAC key of search attribute values (SEARCH_KEY, or derived from PAYLOAD_KEYS), for `find`. */
  searchKey?: Buffer;
  /** WORKER_DEPLOYMENT_NAME, for `mail2waf deployment`. */
  deploymentName?: string;
}

const readSchema = z.object({
  WAF_TARGET_NAME: targetSchema.shape.WAF_TARGET_NAME,
  WAF_TARGETS: z.string().optional(),
  MAIL2WAF_TASK_QUEUE: clientSchema.shape.MAIL2WAF_TASK_QUEUE,
  MAIL2WAF_SCHEDULE_ID: clientSchema.shape.MAIL2WAF_SCHEDULE_ID,
  IMAP_MAILBOX: clientSchema.shape.IMAP_MAILBOX,
  PAYLOAD_KEYS: nonEmpty.optional(),
  SEARCH_KEY: nonEmpty.optional(),
  WORKER_DEPLOYMENT_NAME: workerSchema.shape.WORKER_DEPLOYMENT_NAME,
});

/**
 * The settings a read needs, and no more: no AWS region, IP set names, policy or mail settings, so `mail2waf list`
 * works from any shell that can reach Temporal. Target names come from WAF_TARGETS (only the part before `=`)
 * or WAF_TARGET_NAME, so reads and writes name targets the same way.
 */
export function loadReadConfig(env: Env = process.env): ReadConfig {
  const settings = settingsOf(env);
  const c = parse(readSchema, withSecretFiles(settings.env, ['PAYLOAD_KEYS', 'SEARCH_KEY']), settings.source);
  const names = c.WAF_TARGETS
    ? c.WAF_TARGETS.split(',')
        .map((x) => x.trim().split('=')[0]!.trim())
        .filter(Boolean)
    : [c.WAF_TARGET_NAME];
  const bad = names.filter((n) => !TARGET_NAME.test(n));
  if (bad.length > 0) throw new ConfigError(bad.map((n) => `WAF_TARGETS: "${n}" is not a target name`));
  if (names.length === 0) throw new ConfigError(['WAF_TARGETS lists no target']);
  const targets = names.map((name) => ({ name }));
  const { searchKey } = payloadAndSearchKeys(c);
  return {
    targets,
    target: targets[0]!,
    taskQueue: c.MAIL2WAF_TASK_QUEUE,
    scheduleId: c.MAIL2WAF_SCHEDULE_ID,
    mailbox: c.IMAP_MAILBOX,
    ...(searchKey ? { searchKey } : {}),
    ...(c.WORKER_DEPLOYMENT_NAME ? { deploymentName: c.WORKER_DEPLOYMENT_NAME } : {}),
  };
}

/** DKIM_SELECTORS: `cert.example=sel1,cert.example=sel2,alerts.example=s2024`. */
function dkimSelectors(text: string | undefined): { domain: string; selector: string }[] {
  const out: { domain: string; selector: string }[] = [];
  const problems: string[] = [];
  for (const item of (text ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9.-]+\.[a-z]{2,})=([a-z0-9_][a-z0-9_.-]*)$/i.exec(item);
    if (!m) problems.push(`DKIM_SELECTORS: "${item}" is not domain=selector`);
    else out.push({ domain: m[1]!.toLowerCase(), selector: m[2]!.toLowerCase() });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
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
  ALLOW_NO_TRUSTED_SENDERS: boolean;
  MTA_HOSTS: string[];
  TRUSTED_ARC_SEALERS: string[];
  TRUSTED_AUTHSERV_IDS: string[];
  DNS_RECORDS_FILE?: string;
  MAX_ADVISORY_AGE: string;
}): WorkerConfig['trust'] {
  const none = c.TRUSTED_SENDERS.includes('none'); // never a sender: a domain has a dot
  if (none && c.TRUSTED_SENDERS.length > 1) {
    throw new ConfigError(['TRUSTED_SENDERS: "none" cannot be listed with senders']);
  }
  c = { ...c, TRUSTED_SENDERS: none ? [] : c.TRUSTED_SENDERS };
  if (c.TRUSTED_SENDERS.length > 0 && c.MTA_HOSTS.length === 0) {
    throw new ConfigError([
      'TRUSTED_SENDERS is set but MTA_HOSTS is not: list the host names your mail server writes after "by" in Received lines',
    ]);
  }
  const trust: WorkerConfig['trust'] = {
    trustedSenders: c.TRUSTED_SENDERS,
    mtaHosts: c.MTA_HOSTS,
    trustedArcSealers: c.TRUSTED_ARC_SEALERS,
    maxAdvisoryAgeMs: ms(c.MAX_ADVISORY_AGE),
  };
  if (c.TRUSTED_AUTHSERV_IDS.length > 0) trust.trustedAuthservIds = c.TRUSTED_AUTHSERV_IDS;
  if (none || c.ALLOW_NO_TRUSTED_SENDERS) trust.allowNoTrustedSenders = true;
  if (c.DNS_RECORDS_FILE) trust.dnsRecordsFile = c.DNS_RECORDS_FILE;
  return trust;
}

/** What `mail2waf explain` needs: the trust gate's settings and the safety policy, nothing to connect to. */
export interface ExplainConfig {
  trust: WorkerConfig['trust'];
  /** Never-block list and prefix floor (what the blocklist would refuse). */
  policy: BlockPolicy;
}

const explainSchema = workerSchema.pick({
  TRUSTED_SENDERS: true,
  ALLOW_NO_TRUSTED_SENDERS: true,
  MTA_HOSTS: true,
  TRUSTED_ARC_SEALERS: true,
  TRUSTED_AUTHSERV_IDS: true,
  DNS_RECORDS_FILE: true,
  MAX_ADVISORY_AGE: true,
  NEVER_BLOCK: true,
  NEVER_BLOCK_FILE: true,
  MIN_PREFIX_V4: true,
  MIN_PREFIX_V6: true,
});

/** The worker's trust and safety settings alone (offline `explain`: no IMAP, SMTP, AWS or Temporal settings needed). */
export function loadExplainConfig(env: Env = process.env): ExplainConfig {
  const settings = settingsOf(env);
  const c = parse(explainSchema, settings.env, settings.source);
  return {
    trust: trustConfig(c),
    policy: { neverBlock: neverBlockRanges(c), minPrefixV4: c.MIN_PREFIX_V4, minPrefixV6: c.MIN_PREFIX_V6 },
  };
}

/**
 * The worker's start-up check (called where the trust gate is built): with nobody on TRUSTED_SENDERS every advisory
 * would be quarantined or held, which is a setting forgotten far more often than a choice. The operator says so
 * with TRUSTED_SENDERS=none or ALLOW_NO_TRUSTED_SENDERS=true.
 */
export function requireTrustedSenders(trust: TrustConfig): void {
  if (trust.trustedSenders.length > 0 || trust.allowNoTrustedSenders) return;
  throw new ConfigError([
    'TRUSTED_SENDERS is empty: no advisory could block automatically, every message would be quarantined or held — ' +
      'list the advisory senders (user@domain, domain or *.domain), or set TRUSTED_SENDERS=none ' +
      '(or ALLOW_NO_TRUSTED_SENDERS=true) to run that way on purpose',
  ]);
}

type MailAuthSettings = Pick<
  z.infer<typeof workerSchema>,
  | 'IMAP_USER'
  | 'IMAP_PASSWORD'
  | 'SMTP_USER'
  | 'SMTP_PASSWORD'
  | 'MAIL_AUTH'
  | 'IMAP_AUTH'
  | 'SMTP_AUTH'
  | 'OAUTH2_PROVIDER'
  | 'OAUTH2_TENANT_ID'
  | 'OAUTH2_CLIENT_ID'
  | 'OAUTH2_CLIENT_SECRET'
  | 'OAUTH2_CLIENT_CERT_FILE'
  | 'OAUTH2_CLIENT_KEY_FILE'
  | 'OAUTH2_AUTHORITY'
  | 'OAUTH2_SCOPE'
  | 'OAUTH2_TOKEN_URL'
  | 'OAUTH2_REFRESH_TOKEN'
  | 'GOOGLE_SERVICE_ACCOUNT_FILE'
>;

/**
 * How IMAP and SMTP log in: IMAP_AUTH / SMTP_AUTH (default MAIL_AUTH, default password). With OAuth2 both share
 * one token source (OAUTH2_PROVIDER and its settings), so its tokens are cached once per worker process.
 */
function mailAuth(c: MailAuthSettings): {
  imap: { password?: string; oauth2?: MailOAuth2 };
  smtp: { user?: string; password?: string; oauth2?: MailOAuth2 };
} {
  const imapAuth = c.IMAP_AUTH ?? c.MAIL_AUTH;
  const smtpAuth = c.SMTP_AUTH ?? c.MAIL_AUTH;
  const problems: string[] = [];
  if (imapAuth === 'password' && !c.IMAP_PASSWORD) {
    problems.push(
      c.MAIL_AUTH === 'password' && !c.IMAP_AUTH
        ? 'IMAP_PASSWORD is not set (or set MAIL_AUTH=oauth2 with an OAUTH2_PROVIDER)'
        : 'IMAP_PASSWORD is not set (IMAP_AUTH=password)',
    );
  }
  if (smtpAuth === 'password' && c.SMTP_USER && !c.SMTP_PASSWORD)
    problems.push('SMTP_USER is set but SMTP_PASSWORD is not');
  let oauth2: MailOAuth2 | undefined;
  if (imapAuth === 'oauth2' || smtpAuth === 'oauth2') {
    const need = (key: keyof MailAuthSettings, why: string) => {
      if (!c[key]) problems.push(`${key} is not set (${why})`);
    };
    const scope = c.OAUTH2_SCOPE;
    const tokenUrl = c.OAUTH2_TOKEN_URL;
    switch (c.OAUTH2_PROVIDER) {
      case undefined:
        problems.push('OAUTH2_PROVIDER is not set: entra, google or refresh-token (MAIL_AUTH=oauth2)');
        break;
      case 'entra':
        need('OAUTH2_TENANT_ID', 'OAUTH2_PROVIDER=entra');
        need('OAUTH2_CLIENT_ID', 'OAUTH2_PROVIDER=entra');
        if (!c.OAUTH2_CLIENT_SECRET && !c.OAUTH2_CLIENT_CERT_FILE)
          problems.push('OAUTH2_PROVIDER=entra needs OAUTH2_CLIENT_SECRET (or _FILE) or OAUTH2_CLIENT_CERT_FILE');
        if (problems.length === 0) {
          oauth2 = createMailOAuth2({
            provider: 'entra',
            tenantId: c.OAUTH2_TENANT_ID!,
            clientId: c.OAUTH2_CLIENT_ID!,
            ...(c.OAUTH2_CLIENT_SECRET
              ? { clientSecret: c.OAUTH2_CLIENT_SECRET }
              : { certificate: { certFile: c.OAUTH2_CLIENT_CERT_FILE!, keyFile: c.OAUTH2_CLIENT_KEY_FILE } }),
            authority: c.OAUTH2_AUTHORITY ?? ENTRA_AUTHORITY,
            scope: scope ?? ENTRA_SCOPE,
            ...(tokenUrl ? { tokenUrl } : {}),
          });
        }
        break;
      case 'google':
        need('GOOGLE_SERVICE_ACCOUNT_FILE', 'OAUTH2_PROVIDER=google');
        if (problems.length === 0) {
          oauth2 = createMailOAuth2({
            provider: 'google',
            serviceAccountFile: c.GOOGLE_SERVICE_ACCOUNT_FILE!,
            scope: scope ?? GOOGLE_SCOPE,
            ...(tokenUrl ? { tokenUrl } : {}),
          });
        }
        break;
      case 'refresh-token':
        need('OAUTH2_TOKEN_URL', 'OAUTH2_PROVIDER=refresh-token');
        need('OAUTH2_CLIENT_ID', 'OAUTH2_PROVIDER=refresh-token');
        need('OAUTH2_REFRESH_TOKEN', 'OAUTH2_PROVIDER=refresh-token; or OAUTH2_REFRESH_TOKEN_FILE');
        if (problems.length === 0) {
          oauth2 = createMailOAuth2({
            provider: 'refresh-token',
            tokenUrl: tokenUrl!,
            clientId: c.OAUTH2_CLIENT_ID!,
            refreshToken: c.OAUTH2_REFRESH_TOKEN!,
            ...(c.OAUTH2_CLIENT_SECRET ? { clientSecret: c.OAUTH2_CLIENT_SECRET } : {}),
            ...(scope ? { scope } : {}),
          });
        }
        break;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    imap: imapAuth === 'oauth2' ? { oauth2 } : { password: c.IMAP_PASSWORD },
    smtp:
      smtpAuth === 'oauth2'
        ? { user: c.SMTP_USER ?? c.IMAP_USER, oauth2 }
        : { user: c.SMTP_USER, password: c.SMTP_PASSWORD },
  };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const settings = settingsOf(env);
  const c = parse(
    workerSchema,
    withSecretFiles(settings.env, [
      'IMAP_PASSWORD',
      'SMTP_PASSWORD',
      'SEARCH_KEY',
      'PAYLOAD_KEYS',
      'OAUTH2_CLIENT_SECRET',
      'OAUTH2_REFRESH_TOKEN',
      'ALERT_WEBHOOK_URL',
    ]),
    settings.source,
  );
  const auth = mailAuth(c);
  return {
    ...toClientConfig(c),
    imap: {
      host: c.IMAP_HOST,
      port: c.IMAP_PORT,
      secure: c.IMAP_SECURE ?? c.IMAP_PORT === 993,
      user: c.IMAP_USER,
      ...auth.imap,
      allowPlaintext: c.IMAP_ALLOW_PLAINTEXT,
    },
    processedMailbox: c.IMAP_PROCESSED_MAILBOX,
    quarantineMailbox: c.IMAP_QUARANTINE_MAILBOX,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    smtp: {
      host: c.SMTP_HOST,
      port: c.SMTP_PORT,
      secure: c.SMTP_SECURE ?? c.SMTP_PORT === 465,
      ...auth.smtp,
      allowPlaintext: c.SMTP_ALLOW_PLAINTEXT,
    },
    report: { from: c.REPORT_FROM, to: c.REPORT_TO },
    alerts: { to: c.ALERT_TO, webhookUrl: c.ALERT_WEBHOOK_URL },
    aws: { region: c.AWS_REGION, wafEndpoint: c.AWS_ENDPOINT_URL_WAFV2 },
    trust: trustConfig(c),
    dkimSelectors: dkimSelectors(c.DKIM_SELECTORS),
    source: settings.source,
    health: { port: c.HEALTH_PORT, host: c.HEALTH_HOST, checkIntervalMs: ms(c.HEALTH_CHECK_INTERVAL) },
    log: { level: c.LOG_LEVEL, ...(c.LOG_FORMAT ? { format: c.LOG_FORMAT } : {}) },
    shutdownGraceMs: ms(c.SHUTDOWN_GRACE),
    watch: {
      enabled: c.WATCH_MAILBOX,
      debounceMs: ms(c.WATCH_DEBOUNCE),
      // At least a second: a poll is a round trip to the mail server.
      pollIntervalMs: Math.max(1000, ms(c.WATCH_POLL_INTERVAL)),
    },
    ...(c.WORKER_DEPLOYMENT_NAME
      ? {
          versioning: {
            deploymentName: c.WORKER_DEPLOYMENT_NAME,
            ...(c.WORKER_BUILD_ID ? { buildId: c.WORKER_BUILD_ID } : {}),
            promote: c.WORKER_PROMOTE,
          },
        }
      : {}),
  };
}

/** The sweep policy the worker hands to its sweeps (activity sweepPolicy): its settings, not the starter's. */
export function sweepPolicyOf(c: ClientConfig): SweepPolicy {
  return {
    targets: c.targets,
    maxMessages: c.maxMessagesPerSweep,
    dryRun: c.dryRun,
    guardrails: c.guardrails,
    holdForApproval: c.holdForApproval,
    sourceTtls: c.sourceTtls,
    searchAttributes: c.searchAttributes,
    blockTtlMs: c.policy.ttlMs ?? null,
  };
}
