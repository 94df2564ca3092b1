/**
 * The local stack's settings for a CLI started in a checkout. `npm run stack:up` writes `.stack/env` next to the
 * package; after `npm run demo`, `./bin/mail2waf list` should work in the same shell without loading that file by
 * hand. The file is used only when the environment says nothing about where to connect, it never overrides a
 * variable that is set, and the CLI says on stderr that it was used, so nobody mistakes the demo for production.
 * An installed package has no `.stack/` next to it: there this is a no-op.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/**
 * Any of these set (non-empty) means the operator chose where to connect: the stack's file is not read.
 * TEMPORAL_* are the envconfig settings the CLI shares with the `temporal` CLI; MAIL2WAF_CONFIG is the config file.
 */
export const CONNECTION_SETTINGS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'MAIL2WAF_CONFIG'];

/** `.stack/env` of the checkout this code runs from (src/cli or lib/cli → the package root). */
export function defaultStackEnvFile(): string {
  return join(__dirname, '..', '..', '.stack', 'env');
}

/** `KEY=value` lines as written by scripts/stack-up.sh (no quoting, `#` comments); other lines are ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** What {@link withStackEnv} decided: the settings to use, and the file they were completed from (if any). */
export interface StackEnvResult {
  env: Env;
  /** The `.stack/env` that filled in missing settings; undefined when the environment was used as it is. */
  file?: string;
  /** How many settings came from the file. */
  filled: number;
}

/**
 * The environment, completed from the local stack's `.stack/env` when none of {@link CONNECTION_SETTINGS} is set
 * and the file exists. Variables already in `env` (even empty ones) win; the stack's own `STACK_*` bookkeeping is
 * left out. Never throws: an unreadable file leaves the environment as it is.
 */
export function withStackEnv(env: Env, file: string = defaultStackEnvFile()): StackEnvResult {
  if (CONNECTION_SETTINGS.some((k) => env[k])) return { env, filled: 0 };
  let stack: Record<string, string>;
  try {
    if (!existsSync(file)) return { env, filled: 0 };
    stack = parseEnvFile(readFileSync(file, 'utf8'));
  } catch {
    return { env, filled: 0 };
  }
  const merged: Env = { ...env };
  let filled = 0;
  for (const [key, value] of Object.entries(stack)) {
    if (key.startsWith('STACK_') || merged[key] !== undefined) continue;
    merged[key] = value;
    filled++;
  }
  return filled === 0 ? { env, filled: 0 } : { env: merged, file, filled };
}

/** The one stderr line that says where the settings came from. */
export function stackEnvNote(r: StackEnvResult): string | undefined {
  if (!r.file) return undefined;
  return (
    `mail2waf: using the local stack's settings from ${r.file} (${r.filled} settings; ` +
    `TEMPORAL_ADDRESS is not set — set it, or MAIL2WAF_CONFIG, to use another deployment)\n`
  );
}
