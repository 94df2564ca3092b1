/**
 * The one place that reads the environment. Settings are validated with zod and every problem is reported at
 * once, with the variable to fix, so that a worker fails fast instead of failing on its first message.
 * Secrets come from the environment or from files (`*_FILE`), never from workflow inputs.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SCHEDULE_ID, DEFAULT_TASK_QUEUE } from './shared/constants';
import type { TargetRef } from './shared/types';

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
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h');

const targetSchema = z.object({
  WAF_TARGET_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('default'),
  WAF_SCOPE: z.enum(['REGIONAL', 'CLOUDFRONT']).default('REGIONAL'),
  AWS_REGION: nonEmpty,
  WAF_IPSET_V4_NAME: z.string().regex(/^[\w-]{1,128}$/, 'an IP set name (letters, digits, _ and -)'),
  WAF_IPSET_V6_NAME: z.string().regex(/^[\w-]{1,128}$/, 'an IP set name (letters, digits, _ and -)'),
});

const clientSchema = targetSchema.extend({
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
  IMAP_PROCESSED_MAILBOX: nonEmpty.default('Processed'),
  IMAP_QUARANTINE_MAILBOX: nonEmpty.default('Quarantine'),
  MAX_MESSAGE_BYTES: positiveInt.default(25 * 1024 * 1024),
  SMTP_HOST: nonEmpty,
  SMTP_PORT: port.default(587),
  SMTP_SECURE: bool.optional(),
  SMTP_USER: nonEmpty.optional(),
  SMTP_PASSWORD: nonEmpty.optional(),
  REPORT_FROM: z.string().email(),
  REPORT_TO: emailList,
  AWS_ENDPOINT_URL_WAFV2: z.string().url().optional(),
});

export interface ClientConfig {
  target: TargetRef;
  taskQueue: string;
  mailbox: string;
  maxMessagesPerSweep: number;
  sweepInterval: string;
  scheduleId: string;
}

export interface WorkerConfig extends ClientConfig {
  imap: { host: string; port: number; secure: boolean; user: string; password: string };
  processedMailbox: string;
  quarantineMailbox: string;
  maxMessageBytes: number;
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string };
  report: { from: string; to: string[] };
  aws: { region: string; wafEndpoint?: string };
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

function toClientConfig(c: z.infer<typeof clientSchema>): ClientConfig {
  return {
    target: {
      name: c.WAF_TARGET_NAME,
      scope: c.WAF_SCOPE,
      // CloudFront IP sets always live in us-east-1, whatever region the rest of the account uses.
      region: c.WAF_SCOPE === 'CLOUDFRONT' ? 'us-east-1' : c.AWS_REGION,
      ipSetV4Name: c.WAF_IPSET_V4_NAME,
      ipSetV6Name: c.WAF_IPSET_V6_NAME,
    },
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
    },
    report: { from: c.REPORT_FROM, to: c.REPORT_TO },
    aws: { region: c.AWS_REGION, wafEndpoint: c.AWS_ENDPOINT_URL_WAFV2 },
  };
}
