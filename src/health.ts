/**
 * The worker's health, served by one small HTTP listener (node:http, no framework):
 *
 * - `/livez`  — 200 whenever the event loop turns. A wedged loop cannot answer, so the probe times out; a draining
 *   worker stays live, because killing it would cut its in-flight activities short.
 * - `/readyz` — 200 once the worker is connected to Temporal and polling, and the last checks of Temporal, IMAP and
 *   WAF passed and are recent; 503 otherwise, with every reason as JSON. It turns 503 the moment a drain begins.
 *
 * The listener serves a route table, so another part of the worker can add `/metrics` on the same port.
 * The readiness decision itself (`readiness`) is a pure function of a snapshot, unit-tested on its own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State as WorkerState } from '@temporalio/worker';

/** The result of one check of an outside system; `problem` tells the operator what to do. */
export interface CheckResult {
  ok: boolean;
  /** When the check finished (ms since the epoch). */
  at: number;
  problem?: string;
}

/** Everything readiness depends on, at one instant. */
export interface HealthSnapshot {
  /** `starting` until the worker exists, `draining` from the first SIGTERM/SIGINT on. */
  phase: 'starting' | 'running' | 'draining';
  /** `worker.getState()`; undefined before the worker is created. */
  workerState?: WorkerState;
  /** Last result of every expected check (undefined: not run yet). */
  checks: Record<string, CheckResult | undefined>;
  now: number;
  /** A passed check older than this no longer counts: the checks have stopped or hang. */
  maxCheckAgeMs: number;
}

export interface Readiness {
  ready: boolean;
  /** Why not ready, one sentence each; empty when ready. */
  reasons: string[];
}

/** Pure: is the worker ready to take work, and if not, why. */
export function readiness(s: HealthSnapshot): Readiness {
  const reasons: string[] = [];
  if (s.phase === 'draining') {
    reasons.push('shutting down: no new tasks are taken, in-flight activities are finishing');
  } else if (s.phase === 'starting' || s.workerState === undefined) {
    reasons.push('starting: connecting to Temporal and checking IMAP and WAF');
  } else if (s.workerState !== 'RUNNING') {
    reasons.push(`the Temporal worker is ${s.workerState}, not polling`);
  }
  if (s.phase !== 'draining') {
    for (const [name, result] of Object.entries(s.checks)) {
      if (!result) reasons.push(`${name}: not checked yet`);
      else if (!result.ok) reasons.push(`${name}: ${result.problem ?? 'check failed'}`);
      else if (s.now - result.at > s.maxCheckAgeMs) {
        reasons.push(`${name}: last passed ${Math.round((s.now - result.at) / 1000)} s ago, checks have stopped`);
      }
    }
  }
  return { ready: reasons.length === 0, reasons };
}

/** A check throws an Error whose message says what failed and what to do ("IMAP login failed … check IMAP_PASSWORD"). */
export type Check = () => Promise<void>;

export interface HealthMonitorOptions {
  /** How often the checks run (HEALTH_CHECK_INTERVAL). */
  intervalMs: number;
  /** One check may take this long before it counts as failed. */
  timeoutMs?: number;
  now?: () => number;
}

/** Holds the worker's health: runs the checks periodically, knows the worker's state and whether it drains. */
export class HealthMonitor {
  private phase: HealthSnapshot['phase'] = 'starting';
  private workerState: () => WorkerState | undefined = () => undefined;
  private checks: Record<string, Check> = {};
  private readonly results: Record<string, CheckResult | undefined> = {};
  private readonly inFlight = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  private readonly opts: HealthMonitorOptions;

  constructor(opts: HealthMonitorOptions) {
    // At least a second between rounds: HEALTH_CHECK_INTERVAL=0s must not turn into a busy loop against the servers.
    this.opts = { ...opts, intervalMs: Math.max(1_000, opts.intervalMs) };
    this.timeoutMs = opts.timeoutMs ?? Math.min(15_000, this.opts.intervalMs);
    this.now = opts.now ?? Date.now;
  }

  /** The worker exists: readiness follows its state and these checks, which run now and then every interval. */
  attach(workerState: () => WorkerState | undefined, checks: Record<string, Check>): Promise<void> {
    this.workerState = workerState;
    this.checks = checks;
    if (this.phase === 'starting') this.phase = 'running';
    for (const name of Object.keys(checks)) if (!(name in this.results)) this.results[name] = undefined;
    clearInterval(this.timer);
    // unref: the health timer must never be what keeps a drained worker's process alive.
    this.timer = setInterval(() => void this.runChecks(), this.opts.intervalMs).unref();
    return this.runChecks();
  }

  /** The first SIGTERM: /readyz turns 503 at once and the checks stop (the servers are no longer our business). */
  beginDrain(): void {
    this.phase = 'draining';
    clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get draining(): boolean {
    return this.phase === 'draining';
  }

  /** Runs every check once, concurrently. A check whose previous run still hangs is not started twice. */
  async runChecks(): Promise<void> {
    await Promise.all(Object.entries(this.checks).map(([name, check]) => this.runCheck(name, check)));
  }

  private async runCheck(name: string, check: Check): Promise<void> {
    const started = this.inFlight.get(name);
    if (started !== undefined) {
      this.results[name] = {
        ok: false,
        at: this.now(),
        problem: `the previous check has not answered for ${Math.round((this.now() - started) / 1000)} s`,
      };
      return;
    }
    this.inFlight.set(name, this.now());
    let timeout: NodeJS.Timeout | undefined;
    const running = check();
    try {
      await Promise.race([
        running,
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`no answer within ${Math.round(this.timeoutMs / 1000)} s`)),
            this.timeoutMs,
          );
        }),
      ]);
      this.results[name] = { ok: true, at: this.now() };
    } catch (err) {
      this.results[name] = { ok: false, at: this.now(), problem: (err as Error).message };
    } finally {
      clearTimeout(timeout);
      // The in-flight mark goes when the check itself settles, not when it timed out.
      running.then(
        () => this.inFlight.delete(name),
        () => this.inFlight.delete(name),
      );
    }
  }

  snapshot(): HealthSnapshot {
    return {
      phase: this.phase,
      workerState: this.workerState(),
      checks: { ...this.results },
      now: this.now(),
      // Three missed rounds, plus the time a round may take.
      maxCheckAgeMs: 3 * this.opts.intervalMs + this.timeoutMs,
    };
  }

  readiness(): Readiness {
    return readiness(this.snapshot());
  }

  /** The `/readyz` document: status, reasons, the worker's state and each check's last result. */
  readyzBody(): { status: 'ready' | 'not-ready'; reasons: string[]; worker: string; checks: Record<string, unknown> } {
    const s = this.snapshot();
    const r = readiness(s);
    return {
      status: r.ready ? 'ready' : 'not-ready',
      reasons: r.reasons,
      worker: s.phase === 'draining' ? 'DRAINING' : (s.workerState ?? 'STARTING'),
      checks: Object.fromEntries(
        Object.entries(s.checks).map(([name, c]) => [
          name,
          c
            ? { ok: c.ok, checkedAt: new Date(c.at).toISOString(), ...(c.problem ? { problem: c.problem } : {}) }
            : null,
        ]),
      ),
    };
  }
}

/** A route answers one path; it may be async (a later `/metrics` will be). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** `/livez` and `/readyz` for a monitor; add more routes (e.g. `/metrics`) to the returned map. */
export function healthRoutes(monitor: HealthMonitor): Map<string, RouteHandler> {
  return new Map<string, RouteHandler>([
    ['/livez', (_req, res) => send(res, 200, 'text/plain; charset=utf-8', 'ok\n')],
    [
      '/readyz',
      (_req, res) => {
        const body = monitor.readyzBody();
        send(res, body.status === 'ready' ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      },
    ],
  ]);
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export interface HealthServer {
  /** The route table, read at every request: routes added later are served at once. */
  routes: Map<string, RouteHandler>;
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on host:port and serves `routes` (GET and HEAD; query strings ignored). Rejects with an operator's
 * message when the port cannot be bound, so the worker fails at start rather than running without probes.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  routes: Map<string, RouteHandler>;
}): Promise<HealthServer> {
  const { routes } = opts;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.get(path);
    if (!route) return send(res, 404, 'text/plain; charset=utf-8', `not found; try ${[...routes.keys()].join(', ')}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    Promise.resolve()
      .then(() => route(req, res))
      .catch((err: Error) => {
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${err.message}\n`);
        else res.destroy();
      });
  });
  // Probes are short requests; a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `HEALTH_PORT ${opts.port} on ${opts.host} is already in use — set HEALTH_PORT to a free port, or off`
            : `cannot listen on ${opts.host}:${opts.port} (${err.message}) — check HEALTH_HOST and HEALTH_PORT`,
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    routes,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
