/** One printer for every command: human text by default, one stable JSON document with --json. */
import { terminalSafe } from '../shared/text';

/** An error the operator can fix (bad input, bad config, unknown name): exit code 1. Anything else is 2. */
export class UserError extends Error {
  override name = 'UserError';
}

export interface Printer {
  json: boolean;
  /** Exit code decided by the command (1 when it printed a result that is a refusal). */
  exitCode: 0 | 1;
  /**
   * Prints the command's result: `human` renders it for people; with --json the result itself is printed.
   * `refused` marks a well-formed answer that still means "not done" (exit 1), printed once, not as an error too.
   */
  result<T>(value: T, human: (value: T) => string, refused?: boolean): void;
}

export function createPrinter(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Printer {
  return {
    json,
    exitCode: 0,
    result(value, human, refused = false) {
      if (refused) this.exitCode = 1;
      // Human text passes terminalSafe last: whatever a formatter let through from mail, no escape sequence or
      // bidi control reaches the terminal (each mail-controlled field is also made one line with oneLine).
      write(json ? `${JSON.stringify({ ok: !refused, result: value }, null, 2)}\n` : `${terminalSafe(human(value))}\n`);
    },
  };
}

export function exitCodeFor(err: unknown): 1 | 2 {
  return err instanceof UserError || (err as Error)?.name === 'ConfigError' ? 1 : 2;
}

export function printError(err: unknown, json: boolean, write: (s: string) => void): void {
  const e = err as Error;
  const code = exitCodeFor(err);
  if (json) {
    write(
      `${JSON.stringify({ ok: false, error: { kind: code === 1 ? 'user' : 'failure', message: e.message } }, null, 2)}\n`,
    );
  } else {
    write(`mail2waf: ${terminalSafe(String(e?.message ?? e))}\n`);
  }
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
