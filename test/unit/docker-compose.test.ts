/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so this checks what can be checked:
 *
 * - the compose file, parsed with a real YAML parser: its profiles, that every service's settings are ones
 *   src/config.ts (or an SDK) reads, that every setting the worker requires is set, that the worker's settings load,
 *   and that each service points at services of its own profile;
 * - the Dockerfile, run as a script: its COPY and RUN steps are replayed stage by stage in a temporary folder with
 *   this machine's node and npm (honouring .dockerignore), then the runtime stage is inspected (no devDependency,
 *   the compiled worker and its prebuilt workflow bundle) and started far enough to print its configuration error;
 *   its HEALTHCHECK command is run against a stub /readyz.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { loadWorkerConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string; dockerfile_inline?: string };
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  stop_grace_period?: string;
}

const COMPOSE_TEXT = read('docker-compose.yml');
const compose = parse(COMPOSE_TEXT, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const inProfile = (profile: string) => Object.keys(services).filter((n) => service(n).profiles?.includes(profile));
const rawEnv = (name: string): Env =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v == null ? '' : String(v)]));
const dependsOn = (name: string): string[] => {
  const d = service(name).depends_on ?? [];
  return Array.isArray(d) ? d : Object.keys(d);
};

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $$. */
function interpolate(value: string, vars: Env): string {
  return value.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?:(:?)([-?])([^}]*))?\}/g,
    (all, name?: string, colon?: string, op?: string, arg?: string) => {
      if (all === '$$') return '$';
      const v = vars[name!];
      const unset = v === undefined || (colon === ':' && v === '');
      if (op === '-') return unset ? arg! : v!;
      if (op === '?') {
        if (unset) throw new Error(`compose would stop: ${name} — ${arg}`);
        return v!;
      }
      return v ?? '';
    },
  );
}

/** How a service sets each key: a literal, a required `${X:?…}`, or an optional `${X:-…}` (with its default). */
function settingKinds(name: string): Record<string, 'literal' | 'required' | 'optional'> {
  return Object.fromEntries(
    Object.entries(rawEnv(name)).map(([k, v]) => [
      k,
      /\$\{[A-Z0-9_]+:?\?/.test(v) ? 'required' : /\$\{[A-Z0-9_]+:?-/.test(v) ? 'optional' : 'literal',
    ]),
  );
}

/** What an operator puts in .env for the prod profile. */
const OPERATOR_ENV: Env = {
  IMAP_HOST: 'outlook.office365.com',
  IMAP_USER: 'advisories@example.com',
  IMAP_PASSWORD: 'secret',
  SMTP_HOST: 'smtp.office365.com',
  REPORT_FROM: 'mail2waf@example.com',
  REPORT_TO: 'secteam@example.com',
  AWS_REGION: 'eu-west-1',
  TRUSTED_SENDERS: 'cert.example',
  MTA_HOSTS: '*.protection.outlook.com',
};
const env = (name: string, vars: Env = OPERATOR_ENV): Env =>
  Object.fromEntries(Object.entries(rawEnv(name)).map(([k, v]) => [k, interpolate(v, vars)]));

/** Names the worker reads: every upper-case name in src/config.ts, the secrets' *_FILE forms, process.env reads. */
function workerSettingNames(): Set<string> {
  const config = read('src/config.ts');
  const names = new Set(config.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []);
  for (const list of config.matchAll(/withSecretFiles\([^,]+,\s*\[([^\]]*)\]/g))
    for (const key of list[1]!.match(/[A-Z][A-Z0-9_]+/g) ?? []) names.add(`${key}_FILE`);
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of read(p).matchAll(/process\.env\.([A-Z0-9_]+)/g)) names.add(m[1]!);
    }
  };
  walk('src');
  return names;
}

/** The settings loadWorkerConfig cannot do without ("X is not set" for an empty environment). */
function requiredSettings(): string[] {
  try {
    loadWorkerConfig({});
  } catch (err) {
    return [...(err as Error).message.matchAll(/(\b[A-Z][A-Z0-9_]+) is not set/g)].map((m) => m[1]!);
  }
  throw new Error('loadWorkerConfig({}) accepted an empty environment');
}

const WORKERS = ['worker-local', 'worker'];

describe('docker-compose.yml', () => {
  it('is plain YAML without tabs, with services in two profiles, local and prod', () => {
    expect(COMPOSE_TEXT).not.toMatch(/\t/);
    for (const [name, s] of Object.entries(services)) {
      expect({ name, profiles: s.profiles }).toEqual({ name, profiles: [expect.stringMatching(/^(local|prod)$/)] });
    }
    expect(inProfile('local').sort()).toEqual(['mail', 'moto', 'setup', 'smtp', 'temporal-dev', 'worker-local']);
    expect(inProfile('prod').sort()).toEqual(['postgresql', 'temporal', 'temporal-ui', 'worker']);
  });

  it('runs Temporal on PostgreSQL with its Web UI in prod, and the dev server in local', () => {
    expect(service('temporal').image).toMatch(/^temporalio\/(auto-setup|server):\d/);
    expect(service('postgresql').image).toMatch(/^postgres:\d/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d/);
    const t = env('temporal');
    expect(t.DB).toMatch(/^postgres/);
    expect(t.POSTGRES_SEEDS).toBe('postgresql');
    expect(t.POSTGRES_USER).toBe(env('postgresql').POSTGRES_USER);
    expect(t.POSTGRES_PWD).toBe(env('postgresql').POSTGRES_PASSWORD);
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(service('temporal').ports).toContain('7233:7233');

    const dev = service('temporal-dev');
    expect(dev.image).toMatch(/^temporalio\/(temporal|admin-tools)(:|$)/);
    expect(dev.command!.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(dev.command).toEqual(expect.arrayContaining(['--ip', '0.0.0.0', '--ui-port', '8233']));
    expect(service('moto').image).toMatch(/^motoserver\/moto(:|$)/);
    expect(service('mail').image).toMatch(/^dovecot\/dovecot(:|$)/);
  });

  it.each(['local', 'prod'])('lets %s services depend only on services of the same profile', (profile) => {
    for (const name of inProfile(profile))
      for (const dep of dependsOn(name))
        expect({ name, dep, profile: inProfile(profile).includes(dep) }).toEqual({ name, dep, profile: true });
  });

  it.each(WORKERS)('builds %s from ./Dockerfile and runs the image as built (CMD, HEALTHCHECK, non-root)', (name) => {
    const w = service(name);
    expect(w.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(w.command).toBeUndefined();
    expect(w.ports).toContain('9464:9464');
    // compose's SIGKILL comes after the drain: stop_grace_period ≥ SHUTDOWN_GRACE + 10 s.
    const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);
    expect(seconds(w.stop_grace_period!)).toBeGreaterThanOrEqual(seconds(env(name).SHUTDOWN_GRACE ?? '30s') + 10);
  });

  it.each(WORKERS)('gives %s only settings that src/config.ts or an SDK (AWS_*, TEMPORAL_*) reads', (name) => {
    const known = workerSettingNames();
    for (const key of Object.keys(rawEnv(name))) {
      expect({ key, known: known.has(key) || /^(AWS|TEMPORAL)_/.test(key) }).toEqual({ key, known: true });
    }
  });

  it.each(WORKERS)('sets every setting %s requires, never to an empty default, and the worker accepts them', (name) => {
    const required = requiredSettings();
    expect(required).toEqual(expect.arrayContaining(['IMAP_HOST', 'IMAP_USER', 'SMTP_HOST', 'REPORT_TO']));
    const kinds = settingKinds(name);
    for (const key of required) {
      expect({ key, kind: kinds[key] }).toEqual({ key, kind: expect.stringMatching(/^(literal|required)$/) });
    }
    expect(() => loadWorkerConfig(env(name))).not.toThrow();
  });

  it('stops `--profile prod` with the setting to set when the operator left one out', () => {
    const { IMAP_USER: _omitted, ...partial } = OPERATOR_ENV;
    expect(() => env('worker', partial)).toThrow('compose would stop: IMAP_USER — set IMAP_USER');
  });

  it('points each worker at the servers of its own profile', () => {
    const local = env('worker-local');
    expect(local.TEMPORAL_ADDRESS).toBe('temporal-dev:7233');
    expect(local.IMAP_HOST).toBe('mail');
    expect(local.SMTP_HOST).toBe('smtp');
    expect(new URL(local.AWS_ENDPOINT_URL_WAFV2!).hostname).toBe('moto');
    for (const host of ['temporal-dev', 'mail', 'smtp', 'moto']) expect(inProfile('local')).toContain(host);
    expect(env('worker').TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env('worker').AWS_ENDPOINT_URL_WAFV2).toBeUndefined();
    expect(dependsOn('worker')).toContain('temporal');
    expect(dependsOn('worker-local')).toEqual(expect.arrayContaining(['temporal-dev', 'setup']));
  });

  it("sets up the local worker's IP sets, and gives the local helpers only settings their scripts read", () => {
    expect(env('setup').WAF_IPSET_V4_NAME).toBe(env('worker-local').WAF_IPSET_V4_NAME);
    expect(env('setup').WAF_IPSET_V6_NAME).toBe(env('worker-local').WAF_IPSET_V6_NAME);
    for (const name of ['smtp', 'setup']) {
      const command = (service(name).command ?? []).join(' ');
      const scripts = [...command.matchAll(/scripts\/[\w-]+\.ts/g)].map((m) => read(m[0]));
      expect(scripts.length).toBeGreaterThan(0);
      for (const key of Object.keys(rawEnv(name))) {
        const used = scripts.some((s) => s.includes(key)) || /^AWS_/.test(key);
        expect({ name, key, used }).toEqual({ name, key, used: true });
      }
    }
  });
});

// ---- the Dockerfile ------------------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

function parseDockerfile(text: string): { args: Env; stages: Stage[] } {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && pending === '') continue;
    if (/^\s*#/.test(raw)) continue; // comments inside a continued instruction
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      pending += line;
      if (pending.trim()) lines.push(pending.trim());
      pending = '';
    }
  }
  const args: Env = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+([\s\S]*)$/.exec(line) ?? [];
    if (!op) throw new Error(`Dockerfile: cannot read "${line}"`);
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = rest!.split('=');
      args[k!] = v ?? '';
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest!.trim())!;
      stages.push({
        from: m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? ''),
        name: m[2] ?? `${stages.length}`,
        steps: [],
      });
    } else {
      stages.at(-1)!.steps.push({ op: upper, args: rest!.trim() });
    }
  }
  return { args, stages };
}

/** .dockerignore: Go filepath.Match patterns against the path from the context root (`**` for any depth). */
function dockerIgnore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = p
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

const DOCKERFILE = parseDockerfile(read('Dockerfile'));
const runtime = DOCKERFILE.stages.at(-1)!;
const stepsOf = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op).map((s) => s.args);
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('builds in one stage and runs on Node 24 slim with runtime dependencies only, as a non-root user', () => {
    expect(DOCKERFILE.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of DOCKERFILE.stages) expect(s.from).toMatch(/^node:24(\.\d+)*-(bookworm|trixie)-slim$/);
    const build = DOCKERFILE.stages[0]!;
    const run = (stage: Stage) => stepsOf(stage, 'RUN').map((r) => r.replace(/^(--mount=\S+\s+)+/, ''));
    expect(run(build)).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']));
    expect(run(runtime).some((r) => /^npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(stepsOf(runtime, 'COPY')).toContain('--from=build /app/lib ./lib');
    const user = stepsOf(runtime, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.steps.findIndex((s) => s.op === 'USER')).toBeLessThan(
      runtime.steps.findIndex((s) => s.op === 'CMD'),
    );
    expect(execForm(stepsOf(runtime, 'CMD')[0]!)).toEqual(['mail2waf', 'worker']);
  });

  it('listens on all interfaces in the image (probes and scrapers come from outside) on the exposed port', () => {
    const envs = stepsOf(runtime, 'ENV').join(' ');
    expect(envs).toMatch(/HEALTH_HOST=0\.0\.0\.0/);
    const port = /HEALTH_PORT=(\d+)/.exec(envs)?.[1];
    expect(stepsOf(runtime, 'EXPOSE')).toEqual([port]);
  });

  it('keeps secrets, local state and build output out of the build context', () => {
    const ignored = dockerIgnore(read('.dockerignore'));
    for (const p of ['.git/config', 'node_modules/x', 'lib/worker.js', '.stack/env', '.tools/venv', 'mail2waf.env'])
      expect({ p, ignored: ignored(p) }).toEqual({ p, ignored: true });
    for (const p of ['src/worker.ts', 'package.json', 'package-lock.json', 'bin/mail2waf', 'scripts/build-bundle.ts'])
      expect({ p, ignored: ignored(p) }).toEqual({ p, ignored: false });
  });

  describe('run as a script in a temporary folder', () => {
    let dir: string;
    let app: string;
    let stub: Server | undefined;
    const log: string[] = [];

    /** A path in the image, in the replay: each stage's filesystem is a folder of its own. */
    const at = (stage: string, p: string) => join(dir, stage, p);

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'mail2waf-dockerfile-'));
      const ignored = dockerIgnore(read('.dockerignore'));
      for (const stage of DOCKERFILE.stages) {
        let workdir = '/';
        const stageEnv: Env = {};
        mkdirSync(at(stage.name, '/'), { recursive: true });
        for (const { op, args } of stage.steps) {
          if (op === 'WORKDIR') {
            workdir = args.startsWith('/') ? args : join(workdir, args);
            mkdirSync(at(stage.name, workdir), { recursive: true });
          } else if (op === 'ENV') {
            for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) stageEnv[m[1]!] = m[2]!;
          } else if (op === 'COPY') {
            const words = args.split(/\s+/);
            const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
            const paths = words.filter((w) => !w.startsWith('--'));
            const dest = paths.pop()!;
            for (const src of paths) {
              const source = from ? at(from, src) : join(ROOT, src);
              const target = at(stage.name, dest.startsWith('/') ? dest : join(workdir, dest));
              const into = dest.endsWith('/') ? join(target, src.split('/').pop()!) : target;
              mkdirSync(dirname(into), { recursive: true });
              cpSync(source, into, {
                recursive: true,
                filter: (p) => from !== undefined || !ignored(relative(ROOT, p)),
              });
            }
          } else if (op === 'RUN') {
            // BuildKit mounts (the npm cache) are the build machine's business: the replay uses this machine's cache.
            const command = args.replace(/^(--mount=\S+\s+)+/, '');
            // Absolute paths would reach outside the replay's folder (the Dockerfile says so too); a cache clean
            // would empty this machine's npm cache.
            expect({ run: command, absolute: /(^|\s)\//.test(command) }).toEqual({ run: command, absolute: false });
            expect(command).not.toMatch(/npm cache clean/);
            const started = Date.now();
            const r = spawnSync('bash', ['-ec', command], {
              cwd: at(stage.name, workdir),
              env: {
                PATH: process.env.PATH!,
                HOME: process.env.HOME!,
                ...stageEnv,
                // The same packages, from this machine's npm cache where it has them.
                npm_config_prefer_offline: 'true',
                npm_config_update_notifier: 'false',
              },
              encoding: 'utf8',
              maxBuffer: 64 * 1024 * 1024,
            });
            log.push(
              `[${stage.name}] RUN ${args}: exit ${r.status} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
            );
            if (r.status !== 0)
              throw new Error(`[${stage.name}] RUN ${args} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
          }
        }
      }
      app = at(runtime.name, '/app');
    }, 900_000);

    afterAll(async () => {
      await new Promise<void>((resolve) => (stub ? stub.close(() => resolve()) : resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('leaves the compiled worker, its prebuilt workflow bundle and no devDependency in the runtime stage', () => {
      expect(log.length).toBeGreaterThanOrEqual(3);
      expect(existsSync(join(app, 'lib', 'worker.js'))).toBe(true);
      expect(statSync(join(app, 'lib', 'workflow-bundle.js')).size).toBeGreaterThan(10_000);
      expect(existsSync(join(app, 'src'))).toBe(false);
      const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
      };
      const dev = Object.entries(lock.packages).filter(([p, v]) => p.startsWith('node_modules/') && v.dev);
      expect(dev.length).toBeGreaterThan(10);
      const present = dev.map(([p]) => p).filter((p) => existsSync(join(app, p)));
      expect(present).toEqual([]);
      for (const name of ['typescript', 'tsx', 'jest', 'smtp-server'])
        expect(existsSync(join(app, 'node_modules', name))).toBe(false);
      for (const name of ['@temporalio/worker', '@aws-sdk/client-wafv2', 'imapflow', 'yaml'])
        expect(existsSync(join(app, 'node_modules', name))).toBe(true);
    });

    it('starts `node lib/worker.js` and the image CMD far enough to print the configuration error', () => {
      const bare = { PATH: `${join(app, 'bin')}:${process.env.PATH}`, HOME: app };
      const direct = spawnSync(process.execPath, ['lib/worker.js'], { cwd: app, env: bare, encoding: 'utf8' });
      expect(direct.status).toBe(1);
      expect(direct.stderr).toMatch(/mail2waf worker cannot start: invalid configuration/);
      expect(direct.stderr).toMatch(/IMAP_HOST is not set/);

      const [command, ...args] = execForm(stepsOf(runtime, 'CMD')[0]!);
      const cmd = spawnSync(command!, args, { cwd: app, env: bare, encoding: 'utf8' });
      expect(cmd.status).toBe(1);
      expect(cmd.stderr).toMatch(/IMAP_HOST is not set/);
      expect(cmd.stderr).not.toMatch(/tsx|older than/);
    });

    it('has a HEALTHCHECK that passes on 200 from /readyz and fails on 503', async () => {
      const hc = stepsOf(runtime, 'HEALTHCHECK')[0]!;
      const [, options, exec] = /^(.*?)CMD\s+(\[.*\])$/.exec(hc)!;
      expect(options).toMatch(/--start-period=\d+s/);
      let status = 200;
      const paths: string[] = [];
      stub = createServer((req, res) => {
        paths.push(req.url!);
        res.writeHead(status).end();
      });
      await new Promise<void>((resolve) => stub!.listen(0, '127.0.0.1', resolve));
      const port = String((stub.address() as AddressInfo).port);
      const [command, ...args] = execForm(exec!);
      const run = () =>
        new Promise<number | null>((resolve) => {
          const p = spawn(command === 'node' ? process.execPath : command!, args, {
            env: { PATH: process.env.PATH!, HEALTH_PORT: port },
            stdio: 'ignore',
          });
          p.on('exit', (code) => resolve(code));
        });
      expect(await run()).toBe(0);
      status = 503;
      expect(await run()).toBe(1);
      expect(paths).toEqual(['/readyz', '/readyz']);
    });
  });
});
