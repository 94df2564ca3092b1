/**
 * What the worker process says when it cannot start or stops on an error, and the notes it writes before its
 * logger exists. Where the logs are JSON (LOG_FORMAT=json, or stdout not a terminal) this is one JSON line like
 * every other, so that the log pipeline that shows the worker's lines also shows why it is down; on a terminal it
 * is plain text for the person who started it. Either way it names what to fix, and holds no configured secret.
 *
 * The settings may be the very thing that failed, so nothing here needs them to be valid: the format comes from
 * LOG_FORMAT (environment, else the settings file) and the terminal test, as the logger's does once it runs.
 */
import { format as formatText } from 'node:util';
import { secretSettingValues, settingsOf } from './config';
import { redact, redactionList, resolveLogFormat, StructuredLogger, type LogFormat } from './logging';

type Env = Record<string, string | undefined>;

export interface StartupIo {
  env?: Env;
  stdoutIsTty?: boolean;
  /** Where failures go (default: stderr, where a failed process is looked for; the format follows the logs). */
  writeErr?: (s: string) => void;
  /** Where notes go (default: stdout, with the logger's lines). */
  writeOut?: (s: string) => void;
  now?: () => Date;
}

/** The log format the worker's logger will use, from settings that may not be valid yet. */
export function startupLogFormat(env: Env, stdoutIsTty: boolean): LogFormat {
  let setting = env.LOG_FORMAT;
  try {
    setting = settingsOf(env).env.LOG_FORMAT ?? setting;
  } catch {
    // An unreadable settings file is reported by the config; the environment's LOG_FORMAT still holds.
  }
  return resolveLogFormat(setting, stdoutIsTty);
}

function secretsOf(env: Env): string[] {
  try {
    return secretSettingValues(env);
  } catch {
    return [];
  }
}

function formatFor(io: StartupIo): LogFormat {
  return startupLogFormat(io.env ?? process.env, io.stdoutIsTty ?? process.stdout.isTTY === true);
}

function loggerFor(io: StartupIo, write: (s: string) => void, format = formatFor(io)): StructuredLogger {
  return new StructuredLogger({
    level: 'INFO',
    format,
    secrets: secretsOf(io.env ?? process.env),
    write,
    ...(io.now ? { now: io.now } : {}),
  });
}

/** A lifecycle note written before the worker's own logger runs (which bundle it loads). */
export function startupNote(message: string, io: StartupIo = {}): void {
  loggerFor(io, io.writeOut ?? ((s) => process.stdout.write(s))).notice(message, { component: 'worker' });
}

export interface WorkerExit {
  /** 1: something the operator fixes (settings, a server refusing us, a port in use); 2: a failure. */
  code: 1 | 2;
  message: string;
  /** One instruction per problem, each naming the setting or server to fix. */
  problems?: string[];
  error?: unknown;
}

/** How the worker ends on `err`: exit code, sentence and the problems to fix. */
export function workerExit(err: unknown): WorkerExit {
  const e = err as (Error & { problems?: unknown }) | undefined;
  if (e?.name === 'ConfigError') {
    const problems = Array.isArray(e.problems) ? e.problems.map(String) : [e.message];
    return { code: 1, message: 'mail2waf worker cannot start: invalid configuration', problems };
  }
  if (e?.name === 'GracefulShutdownPeriodExpiredError') {
    return {
      code: 2,
      message:
        'mail2waf worker: in-flight activities did not stop within SHUTDOWN_GRACE; Temporal retries them on another worker after their timeout',
    };
  }
  const text = e instanceof Error ? e.message : String(err);
  // The SDK's own refusals at start that a setting fixes: said as such, like the config's problems.
  const namespace = /Namespace (\S+) (?:was not found|is not found)/.exec(text);
  if (namespace) {
    return {
      code: 1,
      message: 'mail2waf worker cannot start: invalid configuration',
      problems: [
        `Temporal namespace "${namespace[1]}" does not exist — set TEMPORAL_NAMESPACE to an existing one, or create it (temporal operator namespace create)`,
      ],
      error: err,
    };
  }
  return { code: 2, message: `mail2waf worker failed: ${text.split('\n')[0]}`, error: err };
}

/** Writes why the worker ends (in the logs' format) and returns the exit code. */
export function reportWorkerExit(err: unknown, io: StartupIo = {}): 1 | 2 {
  const exit = workerExit(err);
  const write = io.writeErr ?? ((s: string) => process.stderr.write(s));
  const format = formatFor(io);
  if (format === 'json') {
    loggerFor(io, write, format).error(exit.message, {
      component: 'worker',
      exitCode: exit.code,
      ...(exit.problems ? { problems: exit.problems } : {}),
      ...(exit.error !== undefined ? { error: exit.error } : {}),
    });
  } else {
    // A person reads this: the problems one per line, an unexpected error with its stack.
    const text = exit.problems
      ? `${exit.message}:\n  - ${exit.problems.join('\n  - ')}`
      : exit.error !== undefined
        ? formatText('mail2waf worker failed:', exit.error)
        : exit.message;
    write(`${redact(text, redactionList(secretsOf(io.env ?? process.env)))}\n`);
  }
  return exit.code;
}
