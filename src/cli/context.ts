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
  close(): Promise<void>;
}

export function createContext(env: Record<string, string | undefined> = process.env): CliContext {
  let config: ClientConfig | undefined;
  let client: Client | undefined;
  return {
    config() {
      config ??= loadClientConfig(env);
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
    async close() {
      await client?.connection.close();
    },
  };
}
