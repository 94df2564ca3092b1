import { runCli } from '../../src/client';

/** Runs the CLI in-process with `--json` added and `env` as its environment: the exit code and the parsed output. */
export async function cliJson(args: string[], env: Record<string, string>) {
  let out = '';
  const code = await runCli([...args, '--json'], { out: (s) => (out += s), err: () => undefined, env });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { code, doc: JSON.parse(out) as any };
}
