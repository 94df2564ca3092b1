/**
 * Temporal connection settings through @temporalio/envconfig, so TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_* and TOML profiles work the same as for the `temporal` CLI (and Temporal Cloud).
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from './codec';
import { loadPayloadKeys } from './config';

type Env = Record<string, string | undefined>;

export function temporalSettings(env: Env = process.env) {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars });
  return { connectionOptions, namespace: namespace ?? 'default' };
}

export function describeAddress(env: Env = process.env): string {
  return temporalSettings(env).connectionOptions.address ?? '127.0.0.1:7233';
}

/** A client with the payload codec when PAYLOAD_KEYS is set: it reads and writes what the worker encrypts. */
export async function connectClient(env: Env = process.env): Promise<Client> {
  const { connectionOptions, namespace } = temporalSettings(env);
  // Keys first: a bad PAYLOAD_KEYS is a settings error, whether or not Temporal answers.
  const dataConverter = dataConverterFor(loadPayloadKeys(env));
  const connection = await Connection.connect({ ...connectionOptions, connectTimeout: '5s' });
  return new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) });
}

export async function connectNative(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = temporalSettings();
  // The worker SDK is loaded here, not at the top: read-only CLI commands import this module too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NativeConnection: Native } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  const connection = await Native.connect(connectionOptions);
  return { connection, namespace };
}
