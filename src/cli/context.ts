/** What every command needs, built lazily so that `--help` works without config or a server. */
import type { Client } from '@temporalio/client';
import { userInfo } from 'node:os';
import { loadClientConfig, type ClientConfig } from '../config';
import { connectClient, describeAddress } from '../temporal-connection';
import { UserError } from './output';

export interface CliContext {
  config(): ClientConfig;
  client(): Promise<Client>;
  actor(): string;
  /** One environment variable (settings outside the validated config, such as endpoint overrides). */
  env(name: string): string | undefined;
  close(): Promise<void>;
}

export function createContext(
  env: Record<string, string | undefined> = process.env,
  targetName: () => string | undefined = () => undefined,
): CliContext {
  let config: ClientConfig | undefined;
  let client: Client | undefined;
  return {
    config() {
      if (!config) {
        const loaded = loadClientConfig(env);
        const wanted = targetName();
        const target = wanted ? loaded.targets.find((t) => t.name === wanted) : loaded.target;
        if (!target) {
          throw new UserError(
            `unknown target "${wanted}" — configured targets: ${loaded.targets.map((t) => t.name).join(', ')}`,
          );
        }
        config = { ...loaded, target };
      }
      return config;
    },
    async client() {
      if (!client) {
        try {
          client = await connectClient(env);
        } catch (err) {
          throw new Error(
            `cannot reach Temporal at ${describeAddress(env)} (${(err as Error).message}) — start it (npm run stack:up) or set TEMPORAL_ADDRESS`,
          );
        }
      }
      return client;
    },
    actor() {
      const actor = env.MAIL2WAF_ACTOR ?? userInfo().username;
      if (!actor) throw new UserError('cannot tell who you are: set MAIL2WAF_ACTOR');
      return actor;
    },
    env(name) {
      return env[name] || undefined;
    },
    async close() {
      await client?.connection.close();
    },
  };
}
