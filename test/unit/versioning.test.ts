import { temporal } from '@temporalio/proto';
import { buildIdOf, promotionFor, summarizeDeployment } from '../../src/versioning';
import { loadWorkerConfig } from '../../src/config';
import { deploymentCheck } from '../../src/doctor/temporal';
import { minimalWorkerEnv } from '../helpers/settings';

const baseEnv = () => ({ ...minimalWorkerEnv });

const { WorkerDeploymentVersionStatus: S, VersionDrainageStatus: D } = temporal.api.enums.v1;

test('a build id names the workflow code: same code same id, changed code a new id', () => {
  const a = buildIdOf('1.4.0', 'code of build a');
  expect(a).toMatch(/^1\.4\.0-[0-9a-f]{12}$/);
  expect(buildIdOf('1.4.0', 'code of build a')).toBe(a);
  expect(buildIdOf('1.4.0', 'code of build a ')).not.toBe(a);
});

test('WORKER_PROMOTE: first fills an empty slot only, always takes over, never leaves it to the operator', () => {
  expect(promotionFor('first', 'b', undefined)).toEqual({ action: 'promoted' });
  expect(promotionFor('first', 'b', 'a')).toEqual({ action: 'kept', current: 'a' });
  expect(promotionFor('always', 'b', 'a')).toEqual({ action: 'promoted', previous: 'a' });
  expect(promotionFor('never', 'b', undefined)).toEqual({ action: 'skipped' });
  for (const mode of ['first', 'always', 'never'] as const) {
    expect(promotionFor(mode, 'b', 'b')).toEqual({ action: 'already-current' });
  }
});

test('a DescribeWorkerDeployment answer reads as current, ramping and versions oldest first', () => {
  const version = (buildId: string, status: number, seconds: number, drainage?: number) => ({
    deploymentVersion: { deploymentName: 'mail2waf', buildId },
    status,
    createTime: { seconds, nanos: 0 },
    ...(drainage === undefined ? {} : { drainageInfo: { status: drainage } }),
  });
  const summary = summarizeDeployment(
    // fromObject: plain numbers where the API has 64-bit integers, as a decoded answer would carry them.
    temporal.api.deployment.v1.WorkerDeploymentInfo.fromObject({
      name: 'mail2waf',
      routingConfig: {
        currentDeploymentVersion: { deploymentName: 'mail2waf', buildId: 'b' },
        rampingDeploymentVersion: { deploymentName: 'mail2waf', buildId: 'c' },
        rampingVersionPercentage: 10,
      },
      versionSummaries: [
        version('c', S.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING, 300),
        version('a', S.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED, 100, D.VERSION_DRAINAGE_STATUS_DRAINED),
        version('b', S.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT, 200),
      ],
    }),
  );
  expect(summary).toEqual({
    name: 'mail2waf',
    current: 'b',
    ramping: { buildId: 'c', percentage: 10 },
    versions: [
      { buildId: 'a', status: 'drained', drainage: 'drained', createTime: '1970-01-01T00:01:40.000Z' },
      { buildId: 'b', status: 'current', createTime: '1970-01-01T00:03:20.000Z' },
      { buildId: 'c', status: 'ramping', createTime: '1970-01-01T00:05:00.000Z' },
    ],
  });
  // A deployment nobody promoted yet: no current, no ramp.
  expect(summarizeDeployment({ name: 'new', routingConfig: {}, versionSummaries: [] })).toEqual({
    name: 'new',
    versions: [],
  });
});

test('versioning is on with WORKER_DEPLOYMENT_NAME, and bad names are refused with the setting named', () => {
  expect(loadWorkerConfig(baseEnv()).versioning).toBeUndefined();
  expect(loadWorkerConfig({ ...baseEnv(), WORKER_DEPLOYMENT_NAME: 'mail2waf' }).versioning).toEqual({
    deploymentName: 'mail2waf',
    promote: 'first',
  });
  expect(
    loadWorkerConfig({
      ...baseEnv(),
      WORKER_DEPLOYMENT_NAME: 'mail2waf',
      WORKER_BUILD_ID: '1.4.0+git.abc123',
      WORKER_PROMOTE: 'never',
    }).versioning,
  ).toEqual({ deploymentName: 'mail2waf', buildId: '1.4.0+git.abc123', promote: 'never' });
  expect(() => loadWorkerConfig({ ...baseEnv(), WORKER_DEPLOYMENT_NAME: 'mail 2 waf' })).toThrow(
    /WORKER_DEPLOYMENT_NAME/,
  );
  expect(() => loadWorkerConfig({ ...baseEnv(), WORKER_DEPLOYMENT_NAME: 'x', WORKER_PROMOTE: 'sometimes' })).toThrow(
    /WORKER_PROMOTE/,
  );
});

test('doctor: a deployment needs a current build, unless the first worker is yet to promote itself', () => {
  const v = (buildId: string, status: string) => ({ buildId, status });
  expect(
    deploymentCheck('m', { name: 'm', current: 'b', versions: [v('a', 'draining'), v('b', 'current')] }, 'first'),
  ).toMatchObject({ status: 'ok', detail: 'deployment m: build b is current; a still draining' });
  expect(deploymentCheck('m', undefined, 'first')).toMatchObject({ status: 'ok' });
  expect(deploymentCheck('m', undefined, 'never')).toMatchObject({
    status: 'fail',
    fix: 'start a worker, then mail2waf deployment promote <its build id>',
  });
  expect(
    deploymentCheck('m', { name: 'm', versions: [v('a', 'inactive'), v('b', 'inactive')] }, 'first'),
  ).toMatchObject({
    status: 'fail',
    detail: 'deployment m has no current build: sweeps and the blocklist wait (builds known: a, b)',
    fix: 'mail2waf deployment promote b',
  });
});
