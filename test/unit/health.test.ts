/** The readiness model (pure), the monitor's checks and timeouts, and the listener's routes over real HTTP. */
import { loadWorkerConfig } from '../../src/config';
import {
  HealthMonitor,
  healthRoutes,
  readiness,
  startHealthServer,
  type HealthServer,
  type HealthSnapshot,
} from '../../src/health';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const ok = (agoMs = 0) => ({ ok: true, at: NOW - agoMs });

function snap(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    phase: 'running',
    workerState: 'RUNNING',
    checks: { temporal: ok(), imap: ok(), waf: ok() },
    now: NOW,
    maxCheckAgeMs: 195_000,
    ...over,
  };
}

describe('readiness', () => {
  it('is ready when the worker polls and every check passed recently', () => {
    expect(readiness(snap())).toEqual({ ready: true, reasons: [] });
  });

  it('is not ready while starting, nor before the worker exists', () => {
    expect(readiness(snap({ phase: 'starting', workerState: undefined })).reasons).toEqual([
      'starting: connecting to Temporal and checking IMAP and WAF',
    ]);
    expect(readiness(snap({ workerState: undefined })).ready).toBe(false);
  });

  it.each(['INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'] as const)(
    'is not ready when the worker is %s',
    (state) => {
      expect(readiness(snap({ workerState: state }))).toEqual({
        ready: false,
        reasons: [`the Temporal worker is ${state}, not polling`],
      });
    },
  );

  it('gives each failed check its own reason, with what to do', () => {
    const r = readiness(
      snap({
        checks: {
          temporal: ok(),
          imap: { ok: false, at: NOW, problem: 'IMAP login failed for a@b at h:1 — check IMAP_USER and IMAP_PASSWORD' },
          waf: { ok: false, at: NOW },
        },
      }),
    );
    expect(r).toEqual({
      ready: false,
      reasons: ['imap: IMAP login failed for a@b at h:1 — check IMAP_USER and IMAP_PASSWORD', 'waf: check failed'],
    });
  });

  it('does not count a check that has not run, or whose last pass is too old', () => {
    const r = readiness(snap({ checks: { temporal: ok(), imap: undefined, waf: ok(200_000) } }));
    expect(r.reasons).toEqual(['imap: not checked yet', 'waf: last passed 200 s ago, checks have stopped']);
    expect(readiness(snap({ checks: { waf: ok(195_000) } })).ready).toBe(true);
  });

  it('is not ready while draining, whatever the checks say, with one reason', () => {
    expect(readiness(snap({ phase: 'draining' }))).toEqual({
      ready: false,
      reasons: ['shutting down: no new tasks are taken, in-flight activities are finishing'],
    });
    expect(
      readiness(snap({ phase: 'draining', workerState: 'DRAINING', checks: { imap: undefined } })).reasons,
    ).toHaveLength(1);
  });
});

describe('HealthMonitor', () => {
  afterEach(() => jest.useRealTimers());

  it('runs the checks at attach and then every interval, and turns ready', async () => {
    jest.useFakeTimers({ now: NOW });
    let calls = 0;
    let imapOk = true;
    const m = new HealthMonitor({ intervalMs: 60_000 });
    expect(m.readiness().reasons).toEqual(['starting: connecting to Temporal and checking IMAP and WAF']);
    await m.attach(() => 'RUNNING', {
      imap: async () => {
        calls++;
        if (!imapOk) throw new Error('IMAP login failed — check IMAP_PASSWORD');
      },
    });
    expect(calls).toBe(1);
    expect(m.readiness()).toEqual({ ready: true, reasons: [] });

    imapOk = false;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(2);
    expect(m.readiness().reasons).toEqual(['imap: IMAP login failed — check IMAP_PASSWORD']);
    expect(m.readyzBody()).toEqual({
      status: 'not-ready',
      reasons: ['imap: IMAP login failed — check IMAP_PASSWORD'],
      worker: 'RUNNING',
      checks: {
        imap: {
          ok: false,
          checkedAt: new Date(NOW + 60_000).toISOString(),
          problem: 'IMAP login failed — check IMAP_PASSWORD',
        },
      },
    });

    imapOk = true;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(m.readiness().ready).toBe(true);
    m.stop();
  });

  it('fails a check that hangs past its timeout and does not start it again while it hangs', async () => {
    jest.useFakeTimers({ now: NOW });
    let started = 0;
    let release: () => void = () => undefined;
    const m = new HealthMonitor({ intervalMs: 60_000, timeoutMs: 10_000 });
    const attached = m.attach(() => 'RUNNING', {
      waf: () => {
        started++;
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    await jest.advanceTimersByTimeAsync(10_000);
    await attached;
    expect(m.readiness().reasons).toEqual(['waf: no answer within 10 s']);

    await jest.advanceTimersByTimeAsync(50_000); // the next round: the first call still hangs
    expect(started).toBe(1);
    expect(m.readiness().reasons).toEqual(['waf: the previous check has not answered for 60 s']);

    release();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(started).toBe(2);
    m.stop();
  });

  it('stops checking once a drain begins and stays not ready', async () => {
    jest.useFakeTimers({ now: NOW });
    let calls = 0;
    const m = new HealthMonitor({ intervalMs: 1_000 });
    await m.attach(() => 'RUNNING', { imap: async () => void calls++ });
    m.beginDrain();
    expect(m.draining).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    expect(m.readyzBody()).toMatchObject({ status: 'not-ready', worker: 'DRAINING' });
  });
});

describe('the health listener', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function get(path: string, method = 'GET') {
    const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, { method });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  it('answers /livez always, and /readyz with 200 or 503 and the reasons as JSON', async () => {
    const m = new HealthMonitor({ intervalMs: 60_000 });
    server = await startHealthServer({ host: '127.0.0.1', port: 0, routes: healthRoutes(m) });

    expect(await get('/livez')).toEqual({ status: 200, type: 'text/plain; charset=utf-8', text: 'ok\n' });
    const starting = await get('/readyz');
    expect(starting.status).toBe(503);
    expect(starting.type).toBe('application/json');
    expect(JSON.parse(starting.text)).toMatchObject({ status: 'not-ready', worker: 'STARTING' });

    await m.attach(() => 'RUNNING', { imap: async () => undefined });
    const ready = await get('/readyz?verbose=1');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', reasons: [], worker: 'RUNNING' });
    expect((await get('/readyz', 'HEAD')).text).toBe('');

    m.beginDrain();
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/livez')).status).toBe(200);
    m.stop();
  });

  it('serves routes added later (the hook for /metrics), 404 elsewhere, 405 for other methods', async () => {
    const routes = healthRoutes(new HealthMonitor({ intervalMs: 60_000 }));
    server = await startHealthServer({ host: '127.0.0.1', port: 0, routes });
    expect((await get('/metrics')).status).toBe(404);
    server.routes.set('/metrics', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('mail2waf_up 1\n');
    });
    expect(await get('/metrics')).toMatchObject({ status: 200, text: 'mail2waf_up 1\n' });
    expect((await get('/livez', 'POST')).status).toBe(405);
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.text).toMatch(/\/livez, \/readyz, \/metrics/);
  });

  it('answers 500 when a route throws, and keeps serving', async () => {
    const routes = healthRoutes(new HealthMonitor({ intervalMs: 60_000 }));
    routes.set('/boom', () => {
      throw new Error('broken route');
    });
    server = await startHealthServer({ host: '127.0.0.1', port: 0, routes });
    expect(await get('/boom')).toMatchObject({ status: 500, text: 'broken route\n' });
    expect((await get('/livez')).status).toBe(200);
  });

  it('says which setting to change when the port is taken', async () => {
    server = await startHealthServer({ host: '127.0.0.1', port: 0, routes: new Map() });
    await expect(startHealthServer({ host: '127.0.0.1', port: server.port, routes: new Map() })).rejects.toThrow(
      `HEALTH_PORT ${server.port} on 127.0.0.1 is already in use — set HEALTH_PORT to a free port, or off`,
    );
  });
});

describe('health settings', () => {
  const base = {
    AWS_REGION: 'us-east-1',
    WAF_IPSET_V4_NAME: 'v4',
    WAF_IPSET_V6_NAME: 'v6',
    IMAP_HOST: 'imap.example',
    IMAP_USER: 'u',
    IMAP_PASSWORD: 'p',
    SMTP_HOST: 'smtp.example',
    REPORT_FROM: 'a@example.com',
    REPORT_TO: 'b@example.com',
  };

  it('listen on 127.0.0.1:9464, check every 60 s and give a drain 30 s by default', () => {
    const c = loadWorkerConfig(base);
    expect(c.health).toEqual({ port: 9464, host: '127.0.0.1', checkIntervalMs: 60_000 });
    expect(c.shutdownGraceMs).toBe(30_000);
  });

  it('take a port, a host, an interval and a grace, and `off` or 0 turns the listener off', () => {
    const c = loadWorkerConfig({
      ...base,
      HEALTH_PORT: '8080',
      HEALTH_HOST: '0.0.0.0',
      HEALTH_CHECK_INTERVAL: '15s',
      SHUTDOWN_GRACE: '2m',
    });
    expect(c.health).toEqual({ port: 8080, host: '0.0.0.0', checkIntervalMs: 15_000 });
    expect(c.shutdownGraceMs).toBe(120_000);
    expect(loadWorkerConfig({ ...base, HEALTH_PORT: 'off' }).health.port).toBeUndefined();
    expect(loadWorkerConfig({ ...base, HEALTH_PORT: '0' }).health.port).toBeUndefined();
  });

  it('name the setting when a value is wrong', () => {
    expect(() => loadWorkerConfig({ ...base, HEALTH_PORT: '70000', SHUTDOWN_GRACE: 'soon' })).toThrow(
      /HEALTH_PORT: a port number, or off[\s\S]*SHUTDOWN_GRACE: a duration/,
    );
  });
});
