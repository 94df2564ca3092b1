#!/usr/bin/env node
/**
 * The `mail2waf` CLI. Exit codes: 0 success, 1 user error (fix the input or config), 2 failure (retry or report).
 * Start-up cost matters (`--help`, `--version` and `extract` should feel instant): the modules imported here only
 * register commands. Each command loads the Temporal client, the AWS SDK or the worker inside its action.
 */
import { Command, CommanderError } from 'commander';
import { registerAws } from './cli/aws';
import { registerCodecServer } from './cli/codec-server';
import { registerBlocklist } from './cli/blocklist';
import { createContext } from './cli/context';
import { registerExtract } from './cli/extract';
import { registerDeployment } from './cli/deployment';
import { registerDoctor } from './cli/doctor';
import { registerExplain } from './cli/explain';
import { registerFind } from './cli/find';
import { createPrinter, exitCodeFor, printError, type Printer } from './cli/output';
import { registerSchedule } from './cli/schedule';
import { registerApproval } from './cli/approvals';
import { registerSweep } from './cli/sweep';
import { registerWorker } from './cli/worker';
import { packageVersion } from './package-version';

export async function runCli(
  argv: string[],
  io: { out?: (s: string) => void; err?: (s: string) => void; env?: Record<string, string | undefined> } = {},
): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(s));
  const err = io.err ?? ((s: string) => process.stderr.write(s));
  const json = argv.includes('--json');
  // --json and --target are accepted anywhere on the line, like global flags.
  const targetAt = argv.findIndex((a) => a === '--target' || a.startsWith('--target='));
  const targetName =
    targetAt < 0 ? undefined : argv[targetAt]!.includes('=') ? argv[targetAt]!.split('=')[1] : argv[targetAt + 1];
  const ctx = createContext(io.env ?? process.env, () => targetName, { note: err });
  let printer: Printer | undefined;
  const getPrinter = () => (printer ??= createPrinter(json, out));

  const program = new Command('mail2waf')
    .description('turn threat-advisory e-mail into AWS WAF blocks')
    .option('--json', 'print one JSON document on stdout')
    .option('--target <name>', 'the target to act on (see WAF_TARGETS; default: the first)')
    .version(packageVersion(), '-V, --version', 'print the version of mail2waf')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError();
  registerSweep(program, ctx, getPrinter);
  registerApproval(program, ctx, getPrinter);
  registerFind(program, ctx, getPrinter);
  registerBlocklist(program, ctx, getPrinter);
  registerSchedule(program, ctx, getPrinter);
  registerAws(program, ctx, getPrinter);
  registerExtract(program, getPrinter);
  registerDoctor(program, () => io.env ?? process.env, getPrinter);
  registerExplain(program, () => io.env ?? process.env, getPrinter);
  registerWorker(program);
  registerCodecServer(program, ctx, getPrinter);
  registerDeployment(program, ctx, getPrinter);
  // --json may follow the subcommand (`mail2waf list --json`): accept it anywhere (the worker prints no result).
  program.commands
    .filter((c) => c.name() !== 'worker')
    .forEach(function allow(c: Command) {
      c.option('--json', 'print one JSON document on stdout');
      c.option('--target <name>', 'the target to act on (see WAF_TARGETS; default: the first)');
      c.commands.forEach(allow);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return printer?.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors; a bad flag or missing argument is the user's to fix.
      return e.exitCode === 0 ? 0 : 1;
    }
    printError(e, json, json ? out : err);
    return exitCodeFor(e);
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
