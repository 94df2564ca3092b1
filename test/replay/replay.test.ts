/**
 * Replays recorded histories (test/fixtures/histories/*.pb, binary protobuf made by scripts/record-histories.ts) against today's
 * workflow code: a change that is not deterministic (a new activity call, a reordered step without patched())
 * fails here instead of breaking running workflows in production.
 */
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflowBundle } from '../helpers/worker';

const dir = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.pb'));

test('recorded histories exist for every workflow and both sweep shapes', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'sweep.pb', // the legacy sweep (before patch sweep-v2), which held the whole run
      'sweep-approval.pb',
      'sweep-v2.pb',
      'sweep-held.pb',
      'approval.pb',
      'blocklist.pb',
      'blocklist-continued-as-new.pb',
      'blocklist-expiry.pb',
      'blocklist-packed-state.pb',
    ]),
  );
});

test.each(files)('%s replays without non-determinism', async (file) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(join(dir, file)));
  expect(history.events.length).toBeGreaterThan(10);
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});
