/**
 * The heavy modules behind the commands, loaded on first use. `mail2waf --help`, `--version` and `extract` must
 * start about as fast as node itself (bench/cli.ts), so src/client.ts and the command modules import only types
 * and light helpers at the top; an action calls one of these when it needs the Temporal client, the AWS SDK, the
 * worker or the extraction engine. Synchronous `require`, not `import()`: under tsx (bin/mail2waf running the
 * sources) an `import()` goes to Node's ESM loader, which does not resolve our extensionless TypeScript paths.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const lazy = {
  temporalClient: () => require('@temporalio/client') as typeof import('@temporalio/client'),
  temporalConnection: () => require('../temporal-connection') as typeof import('../temporal-connection'),
  /** Signal, query and update definitions (they import @temporalio/workflow). */
  messages: () => require('../shared/messages') as typeof import('../shared/messages'),
  blocklistClient: () => require('../blocklist-client') as typeof import('../blocklist-client'),
  blocklistPolicy: () => require('../policy/blocklist') as typeof import('../policy/blocklist'),
  /** zod and the settings schema. */
  config: () => require('../config') as typeof import('../config'),
  waf: () => require('@aws-sdk/client-wafv2') as typeof import('@aws-sdk/client-wafv2'),
  awsSetup: () => require('../aws/setup') as typeof import('../aws/setup'),
  /** The extraction engine, with the mail parser, PDF, XLSX and zip readers behind it. */
  extractFile: () => require('../extraction/file') as typeof import('../extraction/file'),
  indicators: () => require('../extraction/indicators') as typeof import('../extraction/indicators'),
  /** The worker process: Temporal's worker runtime, the activities, the mail libraries. */
  worker: () => require('../worker') as typeof import('../worker'),
  /** How the worker reports its end and its first note before its logger runs, in the logs' format. */
  startupFailure: () => require('../startup-failure') as typeof import('../startup-failure'),
  /** Starting a mailbox's sweep under its one id, or joining the running one. */
  sweepStart: () => require('../sweep-start') as typeof import('../sweep-start'),
  /** How search attribute values are stored (hashed with the search key when there is one). */
  searchKeys: () => require('../activities/search-keys') as typeof import('../activities/search-keys'),
};
