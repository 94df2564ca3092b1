/**
 * The worker's one logger: JSON lines on stdout in production, readable text when stdout is a terminal
 * (LOG_FORMAT=json|text overrides), at LOG_LEVEL and above. The Temporal SDK logs through it (Runtime.install
 * `logger`), its native core too (`telemetryOptions.logging.forward`), and so do workflow and activity `log` calls,
 * which carry the workflow id, run id and activity type as fields.
 *
 * Hazard: a log line is read by more people than the mailbox. Every configured secret (mail passwords, payload
 * keys, OAuth2 client secret) is replaced by `[redacted]` in every line, whatever field it hides in, as a last
 * line of defence behind the rule that no code logs a secret, a token or a message body.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export type LogFormat = 'json' | 'text';

const LEVELS: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/** LOG_LEVEL as the SDK spells it (case-insensitive; WARNING is taken for WARN); undefined for nonsense. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = (value ?? 'INFO').trim().toUpperCase();
  const level = v === 'WARNING' ? 'WARN' : v;
  return level in LEVELS ? (level as LogLevel) : undefined;
}

/** LOG_FORMAT, or by default JSON unless stdout is a terminal. */
export function resolveLogFormat(setting: string | undefined, stdoutIsTty: boolean): LogFormat {
  if (setting === 'json' || setting === 'text') return setting;
  return stdoutIsTty ? 'text' : 'json';
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Strings that must never appear in a line (each at least 4 characters; shorter ones are ignored). */
  secrets?: string[];
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
  now?: () => Date;
}

/** SDK field names → ours: one name per idea, whichever part of the SDK wrote the line. */
const RENAMED: Record<string, string> = { workflowRunId: 'runId', sdkComponent: 'component' };

/** The fields a line starts with, in this order (then the rest as they came). */
const FIRST = ['workflowType', 'workflowId', 'runId', 'activityType', 'activityId', 'attempt', 'target'];

/** A Temporal `Logger` that writes structured lines. */
export class StructuredLogger implements Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;
  private readonly secrets: string[];

  constructor(private readonly opts: LoggerOptions) {
    this.min = LEVELS[opts.level];
    this.write = opts.write ?? ((line) => process.stdout.write(line));
    this.now = opts.now ?? (() => new Date());
    this.secrets = redactionList(opts.secrets ?? []);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if ((LEVELS[level] ?? LEVELS.INFO) < this.min) return;
    this.emit(level, message, meta);
  }

  /**
   * The worker's lifecycle (started, draining, drained, policy installed): written at every LOG_LEVEL, as `info`,
   * because operators and scripts wait for these lines even when they asked for warnings only.
   */
  notice(message: string, meta?: LogMetadata): void {
    this.emit('INFO', message, meta);
  }

  private emit(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { timestampNanos, ...rest } = meta ?? {};
    const time = timestampNanos !== undefined ? timeOf(timestampNanos) : this.now();
    const fields = normalise(rest);
    const line =
      this.opts.format === 'json'
        ? JSON.stringify({ time: time.toISOString(), level: level.toLowerCase(), message, ...fields })
        : textLine(time, level, message, fields);
    this.write(`${this.scrub(line)}\n`);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  private scrub(line: string): string {
    return redact(line, this.secrets);
  }
}

/** The secrets worth redacting (at least 4 characters), longest first so that one containing another goes whole. */
export function redactionList(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret of a redactionList, in its plain and JSON-escaped spelling, made `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    // Also its JSON-escaped spelling: a secret with a quote or backslash is written escaped in a JSON line.
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** The SDK stamps forwarded and sink lines with their own time (ns since the epoch, a bigint). */
function timeOf(nanos: unknown): Date {
  try {
    return new Date(Number(BigInt(nanos as bigint) / 1_000_000n));
  } catch {
    return new Date();
  }
}

function normalise(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!meta) return out;
  // The core's `target` is a Rust module path, not a protected target of ours: `module`, so `target` keeps one meaning.
  const core = meta.sdkComponent === 'core';
  const entries = Object.entries(meta).map(
    ([k, v]) => [core && k === 'target' ? 'module' : (RENAMED[k] ?? k), plain(v)] as const,
  );
  for (const key of FIRST) {
    const hit = entries.find(([k]) => k === key);
    if (hit && hit[1] !== undefined) out[key] = hit[1];
  }
  for (const [k, v] of entries) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** JSON-safe: errors as name and message (and stack), bigints as strings. */
function plain(v: unknown, depth = 0): unknown {
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Error) {
    const e = v as Error & { type?: string; cause?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(e.type ? { type: e.type } : {}),
      ...(e.stack ? { stack: e.stack } : {}),
      ...(e.cause !== undefined && depth < 3 ? { cause: plain(e.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(v)) return depth < 4 ? v.map((x) => plain(x, depth + 1)) : '[…]';
  if (v && typeof v === 'object') {
    if (depth >= 4) return '[…]';
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, depth + 1)]));
  }
  return v;
}

function textLine(time: Date, level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time.toISOString()} ${level.padEnd(5)} ${message}${rest ? `  ${rest}` : ''}`;
}

/** The secrets of a settings object worth scrubbing: passwords, keys and client secrets it holds. */
export function secretsOf(values: (string | undefined)[]): string[] {
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}
