/**
 * `mail2waf codec-server`: serves `/encode` and `/decode` for the Temporal Web UI and `temporal --codec-endpoint`
 * with the workers' payload keys (src/codec/server.ts). Runs until SIGINT or SIGTERM. Settings: PAYLOAD_KEYS,
 * CODEC_SERVER_TOKEN, CODEC_CORS_ORIGIN, CODEC_SERVER_HOST, CODEC_SERVER_PORT (flags win).
 */
import type { Command } from 'commander';
import type { CliContext } from './context';
import type { Printer } from './output';

interface CodecServerFlags {
  port?: string;
  host?: string;
  insecureNoAuth?: boolean;
}

export function registerCodecServer(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('codec-server')
    .description(
      'serve /encode and /decode for the Temporal Web UI and `temporal --codec-endpoint` (runs until Ctrl-C)',
    )
    .option('--port <n>', 'port to listen on (CODEC_SERVER_PORT, default 8234; 0: any free port)')
    .option('--host <addr>', 'address to listen on (CODEC_SERVER_HOST, default 127.0.0.1)')
    .option('--insecure-no-auth', 'no token: anyone who reaches the port can decrypt (loopback only)')
    .action(async (flags: CodecServerFlags) => {
      // Loaded here: `--help` never pays for zod or the codec.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { loadCodecServerConfig } = require('../config') as typeof import('../config');
      const { startCodecServer } = require('../codec/server') as typeof import('../codec/server');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const env = Object.fromEntries(
        ['PAYLOAD_KEYS', 'PAYLOAD_KEYS_FILE', 'MAIL2WAF_CONFIG', 'CODEC_SERVER_TOKEN', 'CODEC_SERVER_TOKEN_FILE']
          .concat(['CODEC_CORS_ORIGIN', 'CODEC_SERVER_HOST', 'CODEC_SERVER_PORT'])
          .map((k) => [k, ctx.env(k)]),
      );
      const config = loadCodecServerConfig(env, flags);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const running = await startCodecServer({ ...config, log }).catch((err: NodeJS.ErrnoException) => {
        const { UserError } = require('./output') as typeof import('./output'); // eslint-disable-line @typescript-eslint/no-require-imports
        throw err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new UserError(`cannot listen on ${config.host}:${config.port} (${err.code}) — choose another --port`)
          : err;
      });
      log(
        `mail2waf codec-server: ${running.url} (keys ${config.keys.keys.map((k) => k.id).join(', ')}; ` +
          `current ${config.keys.current.id}; ${config.token ? 'bearer token required' : 'NO AUTHENTICATION'}; ` +
          `CORS ${config.corsOrigins.join(', ')})`,
      );
      log(`  temporal workflow show -w <id> --codec-endpoint ${running.url} --codec-auth "Bearer $CODEC_SERVER_TOKEN"`);
      if (config.token)
        log(`  Web UI: sign the browser in once at ${running.url}/login, then set the UI's codec endpoint`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
      printer().result({ url: running.url, stopped: true }, () => 'mail2waf codec-server: stopped');
    });
}
