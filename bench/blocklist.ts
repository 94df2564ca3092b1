/**
 * `npm run bench:blocklist`: the blocklist workflow on the real local stack (Temporal dev server + moto), and the
 * size of the state it carries through continue-as-new.
 *
 * 1. Latency from a `block` Update (Update-with-start, as the sweep and the CLI send it) to "written to the moto
 *    IP set" (submitBlock resolves with synced=true): p50 / p95 / max in three runs, one address per request:
 *    idle (each request 1.2 s after the previous answer, so the write loop is waiting: a lone sweep or CLI
 *    block), sequential (back to back: every request meets the loop's one-second pause after a write), and
 *    concurrent. The server accepts only about 10 in-flight Updates per workflow, so the concurrent run keeps
 *    at most `--concurrency` (default 8) in flight; more would be rejected and retried, which measures the
 *    rejection, not the blocklist. Every 10th request is checked by reading the IP set at once, and every
 *    address is checked at the end of each run. A back-to-back request costs about one second by design, so
 *    the sequential default is 100 (about 105 s) to keep the whole bench near three minutes.
 * 2. Requests absorbed per second against WAF writes per second: UpdateIPSet calls are counted from the
 *    workflow history (each syncIpSets completion reports `wrote` per IP set), with the shortest gap between two
 *    writing rounds and the most writes that fell into any one second.
 * 3. Bytes of the continue-as-new input ({target, state}) at 10,000 and 20,000 entries with provenance, built
 *    with the workflow's own pure functions the way its `block` handler does (applyBlock, then rememberAnswer),
 *    as JSON and as the Temporal payload the default converter makes, against the server's 2 MiB blob limit.
 *
 * Options: --idle N (default 25), --sequential N (default 100), --concurrent N (default 200), --concurrency C
 * (default 8), --continue-as-new-after N (history events; default 1000 so that the runs cross continue-as-new;
 * 0 leaves it to the server's suggestion, about 4,000 events), --per-message N (addresses per simulated advisory
 * in part 3, default 50), --state-only (part 3 only).
 * Exit code 1 when a request was not synced, an address is missing from WAF, WAF was written more than once in
 * a second, or a continue-as-new state passes the blob limit.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { submitBlock } from '../src/blocklist-client';
import { cidrContains } from '../src/net/ip';
import { applyBlock, desiredIpSets, emptyBlocklistState, rememberAnswer } from '../src/policy/blocklist';
import { packState } from '../src/policy/state-pack';
import { LIST_PAGE_DEFAULT } from '../src/shared/messages';
import { blocklistWorkflowId } from '../src/shared/constants';
import type { BlockCandidate, BlockPolicy, BlocklistInput, SyncReport, TargetRef } from '../src/shared/types';
import { ipSet, isolatedSetup, type TestSetup } from '../test/helpers/stack';
import { startWorker, type RunningWorker } from '../test/helpers/worker';

/** Temporal's default server-side limit for one payload (BlobSizeLimitError); it warns from 512 KiB. */
const BLOB_LIMIT = 2 * 1024 * 1024;
const BLOB_WARN = 512 * 1024;
const DAY_MS = 24 * 3600 * 1000;
/** Longer than the blocklist's pause after a write (1 s), so an "idle" request finds the write loop waiting. */
const IDLE_GAP_MS = 1200;

interface Options {
  idle: number;
  sequential: number;
  concurrent: number;
  concurrency: number;
  perMessage: number;
  stateOnly: boolean;
  continueAsNewAfter: number;
}

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    idle: 25,
    sequential: 100,
    concurrent: 200,
    concurrency: 8,
    perMessage: 50,
    continueAsNewAfter: 1000,
    stateOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${arg} needs a whole number`);
      return v;
    };
    if (arg === '--idle') opts.idle = num();
    else if (arg === '--sequential') opts.sequential = num();
    else if (arg === '--concurrent') opts.concurrent = num();
    else if (arg === '--concurrency') opts.concurrency = Math.max(1, num());
    else if (arg === '--per-message') opts.perMessage = Math.max(1, num());
    else if (arg === '--state-only') opts.stateOnly = true;
    else if (arg === '--continue-as-new-after') opts.continueAsNewAfter = num();
    else throw new Error(`unknown option ${arg} (see the comment at the top of bench/blocklist.ts)`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)));
  const out = rows.map((r) => line(r).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

const ms = (v: number) => `${Math.round(v)} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
const rate = (v: number) => v.toFixed(2);

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Parts 1 and 2: live runs

/** A public-looking, unique IPv4 address per request: 185.220.100.1, 185.220.100.2, … (moto is local). */
function address(i: number): string {
  return `185.220.${100 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** Is the address in the IP set? The blocklist writes the minimal CIDR cover, so .1 and .2 may be one /31. */
function covered(addresses: string[], value: string): boolean {
  return addresses.some((cidr) => cidrContains(cidr, value));
}

/** What the blocklist's history says happened, over every run of it (continue-as-new starts a new history). */
interface HistoryTimeline {
  /** Server times at which a syncIpSets round was scheduled. */
  rounds: number[];
  /** Completed rounds that wrote, at their completion time (just after their UpdateIPSet calls), and how many. */
  writes: { at: number; updateCalls: number }[];
  /** Activity attempts beyond the first (a retried round may repeat a call). */
  retries: number[];
  /** Times at which a run continued as new. */
  continuedAsNew: number[];
  runs: number;
}

function tsMs(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  const s = ts?.seconds;
  const seconds = typeof s === 'number' ? s : Number(s?.toString() ?? 0);
  return seconds * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
}

/** Reads the current run's history and, through continuedExecutionRunId, every earlier run's. */
async function historyTimeline(w: RunningWorker, setup: TestSetup): Promise<HistoryTimeline> {
  const workflowId = blocklistWorkflowId(setup.config.target.name);
  const timeline: HistoryTimeline = { rounds: [], writes: [], retries: [], continuedAsNew: [], runs: 0 };
  let runId: string | undefined = (await w.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    timeline.runs++;
    const history: temporal.api.history.v1.IHistory = await w.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    runId = undefined;
    for (const e of history.events ?? []) {
      const at = tsMs(e.eventTime);
      const previous = e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (previous) runId = previous;
      if (e.workflowExecutionContinuedAsNewEventAttributes) timeline.continuedAsNew.push(at);
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncIpSets') timeline.rounds.push(at);
      if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) timeline.retries.push(at);
      const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      if (!payload) continue;
      const report = defaultPayloadConverter.fromPayload<SyncReport>(payload);
      const updateCalls = (report?.v4?.wrote ? 1 : 0) + (report?.v6?.wrote ? 1 : 0);
      if (updateCalls > 0) timeline.writes.push({ at, updateCalls });
    }
  }
  timeline.writes.sort((a, b) => a.at - b.at);
  return timeline;
}

interface RunResult {
  label: string;
  requests: number;
  concurrency: number;
  /** Wall-clock window of the run (epoch ms), to attribute history events to it. */
  from: number;
  to: number;
  latencies: number[];
  failures: string[];
  sampled: number;
  sampledPresent: number;
  finalMissing: number;
  rounds: number;
  updateCalls: number;
  minGapMs: number;
  maxWritesInOneSecond: number;
  continuedAsNew: number;
}

async function liveRun(
  label: string,
  w: RunningWorker,
  setup: TestSetup,
  firstIndex: number,
  requests: number,
  concurrency: number,
  gapMs = 0,
): Promise<RunResult> {
  const { taskQueue, target, policy } = setup.config;
  const latencies: number[] = [];
  const failures: string[] = [];
  let sampled = 0;
  let sampledPresent = 0;
  let next = 0;
  const from = Date.now();

  const one = async (i: number) => {
    const value = address(firstIndex + i);
    const candidate: BlockCandidate = {
      value,
      source: {
        kind: 'message',
        ref: `<bench-${firstIndex + i}@cert.example>`,
        from: 'advisories@cert.example',
        subject: 'bench advisory',
        detail: `body:line ${i + 1}`,
        at: '',
      },
    };
    const t0 = performance.now();
    try {
      const result = await submitBlock(w.client, taskQueue, target, policy, {
        requestId: `bench-${target.name}-${firstIndex + i}`,
        candidates: [candidate],
      });
      const took = performance.now() - t0;
      if (!result.synced) failures.push(`${value}: answered synced=false after ${ms(took)}`);
      else if (!result.added.includes(value)) failures.push(`${value}: not added (${JSON.stringify(result)})`);
      else latencies.push(took);
      // A sample is checked at once against moto: "synced" must mean "in the IP set".
      if (i % 10 === 0) {
        sampled++;
        if (covered((await ipSet(setup, 'v4')).addresses, value)) sampledPresent++;
        else failures.push(`${value}: answered synced but not in the IP set`);
      }
    } catch (err) {
      failures.push(`${value}: ${(err as Error).message}`);
    }
  };

  await Promise.all(
    Array.from({ length: Math.min(concurrency, requests) }, async () => {
      for (let i = next++; i < requests; i = next++) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        await one(i);
      }
    }),
  );
  const to = Date.now();

  const inSet = (await ipSet(setup, 'v4')).addresses;
  let finalMissing = 0;
  for (let i = 0; i < requests; i++) if (!covered(inSet, address(firstIndex + i))) finalMissing++;

  return {
    label,
    requests,
    concurrency,
    from,
    to,
    latencies: latencies.sort((a, b) => a - b),
    failures,
    sampled,
    sampledPresent,
    finalMissing,
    rounds: 0,
    updateCalls: 0,
    minGapMs: Infinity,
    maxWritesInOneSecond: 0,
    continuedAsNew: 0,
  };
}

/** Fills in a run's write figures from the history events that fall into its time window. */
function attribute(run: RunResult, timeline: HistoryTimeline): void {
  const inRun = (at: number) => at >= run.from && at <= run.to;
  const writes = timeline.writes.filter((x) => inRun(x.at));
  run.rounds = timeline.rounds.filter(inRun).length;
  run.updateCalls = writes.reduce((n, x) => n + x.updateCalls, 0);
  run.continuedAsNew = timeline.continuedAsNew.filter(inRun).length;
  for (let a = 0; a < writes.length; a++) {
    if (a > 0) run.minGapMs = Math.min(run.minGapMs, writes[a]!.at - writes[a - 1]!.at);
    let inWindow = 0;
    for (let b = a; b < writes.length && writes[b]!.at - writes[a]!.at < 1000; b++) inWindow += writes[b]!.updateCalls;
    run.maxWritesInOneSecond = Math.max(run.maxWritesInOneSecond, inWindow);
  }
  const retries = timeline.retries.filter(inRun).length;
  if (retries > 0) run.failures.push(`${retries} syncIpSets retries`);
}

async function liveBench(opts: Options): Promise<{ runs: RunResult[]; problems: string[] }> {
  // The in-process worker would log every worker state change at INFO; the bench prints its own lines.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const setup = await isolatedSetup(`bench-${Date.now().toString(36)}`);
  const problems: string[] = [];
  const runs: RunResult[] = [];
  let w: RunningWorker | undefined;
  try {
    w = await startWorker(setup);
    // The server suggests continue-as-new only after about 4,000 events, which a three-minute run does not reach;
    // a lower threshold (the input the tests use) makes every run cross the boundary, where writes could bunch.
    if (opts.continueAsNewAfter > 0) {
      const input: BlocklistInput = {
        target: setup.config.target,
        policy: setup.config.policy,
        continueAsNewAfterEvents: opts.continueAsNewAfter,
      };
      await w.client.workflow.start('blocklistWorkflow', {
        workflowId: blocklistWorkflowId(setup.config.target.name),
        taskQueue: setup.config.taskQueue,
        args: [input],
      });
    }
    // Warm-up (not measured): starts the blocklist workflow (if not yet) and its first sync, as a first sweep would.
    const warm = await submitBlock(w.client, setup.config.taskQueue, setup.config.target, setup.config.policy, {
      requestId: `bench-${setup.config.target.name}-warmup`,
      candidates: [{ value: '185.220.99.1', source: { kind: 'manual', ref: 'bench', detail: 'warm-up', at: '' } }],
    });
    if (!warm.synced) problems.push('warm-up block was not synced');

    let first = 0;
    if (opts.idle > 0) {
      console.error(`idle: ${opts.idle} requests, each ${IDLE_GAP_MS} ms after the previous answer …`);
      runs.push(await liveRun(`idle (${IDLE_GAP_MS} ms apart)`, w, setup, first, opts.idle, 1, IDLE_GAP_MS));
      first += opts.idle;
    }
    if (opts.sequential > 0) {
      console.error(`sequential: ${opts.sequential} requests, back to back …`);
      runs.push(await liveRun('sequential', w, setup, first, opts.sequential, 1));
      first += opts.sequential;
    }
    if (opts.concurrent > 0) {
      console.error(`concurrent: ${opts.concurrent} requests, ${opts.concurrency} in flight …`);
      runs.push(await liveRun('concurrent', w, setup, first, opts.concurrent, opts.concurrency));
    }
    const timeline = await historyTimeline(w, setup);
    for (const run of runs) attribute(run, timeline);
  } finally {
    // The blocklist would otherwise wait for its 30-day expiry timers on a task queue that no worker serves.
    await w?.client.workflow
      .getHandle(blocklistWorkflowId(setup.config.target.name))
      .terminate('bench finished')
      .catch(() => undefined);
    await w?.stop();
    await setup.cleanup();
  }
  for (const r of runs) {
    for (const f of r.failures.slice(0, 5)) problems.push(`${r.label}: ${f}`);
    if (r.failures.length > 5) problems.push(`${r.label}: … ${r.failures.length - 5} more failures`);
    if (r.finalMissing > 0) problems.push(`${r.label}: ${r.finalMissing} addresses missing from the IP set at the end`);
    if (r.maxWritesInOneSecond > 1)
      problems.push(`${r.label}: ${r.maxWritesInOneSecond} UpdateIPSet calls in one second`);
  }
  return { runs, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// Part 3: continue-as-new state size

const POLICY: BlockPolicy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY_MS };
const TARGET: TargetRef = {
  name: 'production-eu',
  scope: 'REGIONAL',
  region: 'eu-west-1',
  ipSetV4Name: 'mail2waf-production-eu-v4',
  ipSetV6Name: 'mail2waf-production-eu-v6',
};

/** Distinct public-looking hosts: IPv4 in 185.0.0.0/8 etc., IPv6 in 2a0e:…/16 (global unicast, not reserved). */
function v4Host(i: number): string {
  return `${[185, 193, 45, 91][i % 4]}.${(i >> 2) & 255}.${(i >> 10) & 255}.${1 + ((i * 7) % 254)}`;
}
function v6Host(i: number): string {
  const hex = (n: number) => n.toString(16);
  return `2a0e:${hex(0x1c80 + (i >> 12))}:${hex((i * 2654435761) >>> 16)}:${hex(i & 0xfff)}::${hex(1 + (i % 97))}`;
}

/**
 * The state a blocklist would carry after `v4 + v6` addresses arrived in advisories of `perMessage` addresses
 * each (every one found in an attachment line), with `sightings` advisories per address (renewals add a source).
 * Built as the workflow's `block` handler does: applyBlock, then rememberAnswer (bounded memory of answers).
 */
function buildState(v4: number, v6: number, perMessage: number, sightings = 1): BlocklistInput {
  const state = emptyBlocklistState();
  state.policy = POLICY;
  const values = [
    ...Array.from({ length: v4 }, (_, i) => v4Host(i)),
    ...Array.from({ length: v6 }, (_, i) => v6Host(i)),
  ];
  let clock = Date.parse('2025-03-01T08:00:00.000Z');
  let message = 0;
  for (let round = 0; round < sightings; round++) {
    for (let start = 0; start < values.length; start += perMessage) {
      const now = new Date((clock += 7 * 60 * 1000)).toISOString();
      const id = `<20250301.${(message++).toString(36).padStart(6, '0')}.advisory@cert.example>`;
      const tag = `CERT-2025-${String(message).padStart(4, '0')}`;
      const subject = `[${tag}] Active exploitation of edge VPN appliances - IOC update`;
      const candidates: BlockCandidate[] = values.slice(start, start + perMessage).map((value, k) => ({
        value,
        source: {
          kind: 'message',
          ref: id,
          from: 'CERT Advisories <advisories@cert.example>',
          subject,
          detail: `attachment iocs.csv:line ${k + 2}`,
          at: now,
        },
      }));
      const result = applyBlock(state, { requestId: `sweep-${message}`, candidates }, now);
      if (result.refused.length > 0) throw new Error(`state builder: refused ${JSON.stringify(result.refused[0])}`);
      rememberAnswer(state, `sweep-${message}`, { ...result, synced: true });
    }
  }
  // After a sync the workflow remembers the cover it wrote (to take out covers a later one drops).
  const plan = desiredIpSets(state);
  state.written = { v4: plan.v4.ours, v6: plan.v6.ours };
  state.lastSync = {
    at: new Date(clock).toISOString(),
    v4: { added: 0, removed: 0, foreign: 0, total: plan.v4.ours.length, wrote: false },
    v6: { added: 0, removed: 0, foreign: 0, total: plan.v6.ours.length, wrote: false },
    foreign: { v4: [], v6: [] },
  };
  return { target: TARGET, state };
}

interface StateSize {
  label: string;
  entries: number;
  sources: number;
  jsonBytes: number;
  entriesBytes: number;
  answeredBytes: number;
  writtenBytes: number;
  payloadBytes: number;
  listQueryBytes: number;
  syncPlanBytes: number;
  buildMs: number;
}

/** Bytes of a value as one Temporal payload (default converter: json/plain), protobuf-encoded as on the wire. */
function payloadBytes(value: unknown): number {
  return temporal.api.common.v1.Payload.encode(defaultPayloadConverter.toPayload(value)).finish().length;
}

function measureState(label: string, v4: number, v6: number, perMessage: number, sightings = 1): StateSize {
  const t0 = performance.now();
  const input = buildState(v4, v6, perMessage, sightings);
  const buildMs = performance.now() - t0;
  const state = input.state!;
  const entries = Object.values(state.entries);
  return {
    label,
    entries: entries.length,
    sources: entries.reduce((n, e) => n + e.sources.length, 0),
    jsonBytes: Buffer.byteLength(JSON.stringify(input)),
    entriesBytes: Buffer.byteLength(JSON.stringify(state.entries)),
    answeredBytes: Buffer.byteLength(JSON.stringify(state.answered)),
    writtenBytes: Buffer.byteLength(JSON.stringify(state.written ?? {})),
    // What continueAsNew really carries: the packed state (src/policy/state-pack.ts), not the plain JSON.
    payloadBytes: payloadBytes({ target: input.target, policy: state.policy, packedState: packState(state) }),
    // The `list` query answers with every entry; the sync activity's input carries every value.
    listQueryBytes: payloadBytes(entries.slice(0, LIST_PAGE_DEFAULT)),
    syncPlanBytes: payloadBytes({ target: input.target, plan: desiredIpSets(state) }),
    buildMs,
  };
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const command = `npm run bench:blocklist${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const started = Date.now();
  const problems: string[] = [];

  let live: RunResult[] = [];
  if (!opts.stateOnly) {
    const got = await liveBench(opts);
    live = got.runs;
    problems.push(...got.problems);
  }

  const sizes = [
    measureState('10,000 (IPv4)', 10_000, 0, opts.perMessage),
    measureState('20,000 (10,000 v4 + 10,000 v6)', 10_000, 10_000, opts.perMessage),
    measureState('20,000, each seen in 3 advisories', 10_000, 10_000, opts.perMessage, 3),
  ];

  console.log(`command: ${command}`);
  console.log(
    `node ${process.version}, Temporal ${process.env.TEMPORAL_ADDRESS ?? '-'}, ` +
      `moto ${process.env.AWS_ENDPOINT_URL_WAFV2 ?? '-'}, ${new Date().toISOString()}`,
  );

  if (live.length > 0) {
    console.log('\n1. block Update → address in the moto IP set (submitBlock resolved with synced=true)\n');
    console.log(
      table([
        ['run', 'requests', 'in flight', 'ok', 'p50', 'p95', 'max', 'checked in moto'],
        ...live.map((r) => [
          r.label,
          String(r.requests),
          String(r.concurrency),
          String(r.latencies.length),
          ms(percentile(r.latencies, 50)),
          ms(percentile(r.latencies, 95)),
          ms(r.latencies.at(-1) ?? NaN),
          `${r.sampledPresent}/${r.sampled} at once, ${r.requests - r.finalMissing}/${r.requests} at end`,
        ]),
      ]),
    );
    console.log('\n2. requests absorbed vs WAF writes (UpdateIPSet calls counted from the workflow history)\n');
    console.log(
      table([
        [
          'run',
          'duration',
          'requests/s',
          'sync rounds',
          'UpdateIPSet',
          'writes/s',
          'req per write',
          'min gap',
          'max writes in 1 s',
        ],
        ...live.map((r) => [
          r.label,
          `${((r.to - r.from) / 1000).toFixed(1)} s`,
          rate(r.requests / ((r.to - r.from) / 1000)),
          String(r.rounds),
          String(r.updateCalls),
          rate(r.updateCalls / ((r.to - r.from) / 1000)),
          rate(r.requests / Math.max(1, r.updateCalls)),
          Number.isFinite(r.minGapMs) ? ms(r.minGapMs) : '–',
          String(r.maxWritesInOneSecond),
        ]),
      ]),
    );
    for (const r of live.filter((x) => x.continuedAsNew > 0))
      console.log(
        `the blocklist continued as new ${r.continuedAsNew}× during the ${r.label} run (counted across runs)`,
      );
  }

  console.log(
    `\n3. continue-as-new input {target, policy, packedState} with provenance (${opts.perMessage} addresses per advisory, ` +
      `policy ttl 30 d, answers remembered as the workflow does); limit ${BLOB_LIMIT} bytes (2 MiB)\n`,
  );
  console.log(
    table([
      [
        'entries',
        'sources',
        'plain JSON bytes',
        'packed payload bytes',
        'of 2 MiB',
        'entries part',
        'answered part',
        'written part',
        'bytes/entry',
        '`list` page (1,000)',
        'sync input',
      ],
      ...sizes.map((s) => [
        s.label,
        String(s.sources),
        String(s.jsonBytes),
        String(s.payloadBytes),
        pct(s.payloadBytes / BLOB_LIMIT),
        kb(s.entriesBytes),
        kb(s.answeredBytes),
        kb(s.writtenBytes),
        String(Math.round(s.entriesBytes / s.entries)),
        kb(s.listQueryBytes),
        kb(s.syncPlanBytes),
      ]),
    ]),
  );
  // The Update a sweep sends carries every candidate with its source: one message with the most addresses a
  // message may give (5,000) is the largest single request.
  const bigRequest = buildState(5_000, 0, 5_000);
  const [bigAnswer] = Object.values(bigRequest.state!.answered);
  const bigCandidates = Object.values(bigRequest.state!.entries).map((e) => ({
    value: e.value,
    source: e.sources[0]!,
  }));
  const requestBytes = payloadBytes({ requestId: 'sweep-1', candidates: bigCandidates });
  console.log(
    `\none block Update with 5,000 candidates (one advisory): ${requestBytes} bytes ` +
      `(${pct(requestBytes / BLOB_LIMIT)} of 2 MiB); its remembered answer: ${payloadBytes(bigAnswer)} bytes`,
  );
  for (const s of sizes) {
    if (s.payloadBytes > BLOB_LIMIT)
      problems.push(
        `state at ${s.label} is ${s.payloadBytes} bytes, ${(s.payloadBytes / BLOB_LIMIT).toFixed(2)}× ` +
          `Temporal's 2 MiB blob limit: continue-as-new would fail`,
      );
    else if (s.payloadBytes > BLOB_WARN)
      console.log(`note: state at ${s.label} passes the server's 512 KiB payload warning threshold`);
  }

  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (problems.length > 0) {
    console.log(`\nFAIL\n${problems.map((p) => `- ${p}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error('bench:blocklist failed:', err);
  process.exit(2);
});
