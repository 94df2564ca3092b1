/**
 * What every command needs, built lazily so that `--help` works without config or a server. The modules behind
 * it (zod and the config schema, the Temporal client and its gRPC stack) are loaded on first use, not when the
 * CLI starts: `--help`, `--version` and `extract` never pay for them.
 */
import type { Client } from '@temporalio/client';
import { userInfo } from 'node:os';
import type { ClientConfig, ReadConfig } from '../config';
import { UserError } from './output';
import { stackEnvNote, withStackEnv } from './stack-env';
import { lazy } from './lazy';

type Env = Record<string, string | undefined>;

export interface CliContext {
  config(): ClientConfig;
  /** What a read needs (target names, task queue, schedule id, search key): no AWS, mail or policy settings. */
  readConfig(): ReadConfig;
  client(): Promise<Client>;
  actor(): string;
  /** One environment variable (settings outside the validated config, such as endpoint overrides). */
  env(name: string): string | undefined;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Where the one line about the local stack's settings goes (stderr). */
  note?: (s: string) => void;
  /** The local stack's settings file (tests); default: `.stack/env` next to the package. */
  stackEnvFile?: string;
}

export function createContext(
  env: Env = process.env,
  targetName: () => string | undefined = () => undefined,
  opts: ContextOptions = {},
): CliContext {
  let settings: Env | undefined;
  let config: ClientConfig | undefined;
  let readConfig: ReadConfig | undefined;
  let client: Client | undefined;
  // The environment as given, completed from the local stack's .stack/env when it names no deployment.
  const effectiveEnv = (): Env => {
    if (!settings) {
      const r = withStackEnv(env, opts.stackEnvFile);
      const note = stackEnvNote(r);
      if (note) (opts.note ?? ((s: string) => process.stderr.write(s)))(note);
      settings = r.env;
    }
    return settings;
  };
  const pickTarget = <T extends { name: string }>(targets: T[], first: T): T => {
    const wanted = targetName();
    const target = wanted ? targets.find((t) => t.name === wanted) : first;
    if (!target) {
      throw new UserError(`unknown target "${wanted}" — configured targets: ${targets.map((t) => t.name).join(', ')}`);
    }
    return target;
  };
  return {
    readConfig() {
      if (!readConfig) {
        const loaded = lazy.config().loadReadConfig(effectiveEnv());
        readConfig = { ...loaded, target: pickTarget(loaded.targets, loaded.target) };
      }
      return readConfig;
    },
    config() {
      if (!config) {
        // Loaded here, not at the top: zod and the schema are only needed by commands that read settings.
        const { loadClientConfig } = lazy.config();
        const loaded = loadClientConfig(effectiveEnv());
        config = { ...loaded, target: pickTarget(loaded.targets, loaded.target) };
      }
      return config;
    },
    async client() {
      if (!client) {
        const e = effectiveEnv();
        const { connectClient, describeAddress } = lazy.temporalConnection();
        try {
          client = await connectClient(e);
        } catch (err) {
          throw new Error(
            `cannot reach Temporal at ${describeAddress(e)} (${(err as Error).message}) — start it (npm run stack:up) or set TEMPORAL_ADDRESS`,
          );
        }
      }
      return client;
    },
    actor() {
      const actor = env.MAIL2WAF_ACTOR ?? userName();
      if (!actor) throw new UserError('cannot tell who you are: set MAIL2WAF_ACTOR');
      return actor;
    },
    env(name) {
      return effectiveEnv()[name] || undefined;
    },
    async close() {
      await client?.connection.close();
    },
  };
}

function userName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined; // no passwd entry (containers with an arbitrary uid)
  }
}
