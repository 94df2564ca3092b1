/** `mail2waf schedule apply | pause | resume | describe | delete`: the Temporal Schedule that starts sweeps. */
import type { ScheduleOptions } from '@temporalio/client';
import type { Command } from 'commander';
import { mailboxSweepId } from '../shared/constants';
import type { CliContext } from './context';
import { sweepInput } from './sweep';
import { UserError, type Printer } from './output';
import { lazy } from './lazy';

export interface ScheduleSummary {
  scheduleId: string;
  interval: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: { workflowId: string; startedAt: string }[];
}

function notFound(id: string): never {
  throw new UserError(`schedule "${id}" does not exist — create it with \`mail2waf schedule apply\``);
}

export function registerSchedule(program: Command, ctx: CliContext, printer: () => Printer) {
  const schedule = program.command('schedule').description('manage the Temporal Schedule that starts sweeps');

  const describe = async (): Promise<ScheduleSummary> => {
    const id = ctx.readConfig().scheduleId;
    const client = await ctx.client();
    const { ScheduleNotFoundError } = lazy.temporalClient();
    const d = await client.schedule
      .getHandle(id)
      .describe()
      .catch((e) => (e instanceof ScheduleNotFoundError ? notFound(id) : Promise.reject(e)));
    const every = d.spec.intervals?.[0]?.every;
    return {
      scheduleId: id,
      interval: typeof every === 'number' ? `${every / 1000}s` : String(every ?? 'none'),
      paused: d.state.paused,
      note: d.state.note,
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.slice(-5).map((a) => ({
        workflowId: a.action.workflow.workflowId,
        startedAt: a.takenAt.toISOString(),
      })),
    };
  };
  const human = (s: ScheduleSummary) =>
    [
      `schedule ${s.scheduleId}: every ${s.interval}, ${s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : 'active'}`,
      `next: ${s.nextRuns.join(', ') || 'none'}`,
      ...s.recentRuns.map((r) => `ran ${r.workflowId} at ${r.startedAt}`),
    ].join('\n');

  schedule
    .command('apply')
    .description('create the schedule, or update it to the current config (interval SWEEP_INTERVAL, overlap SKIP)')
    .action(async () => {
      const c = ctx.config();
      const client = await ctx.client();
      const { ScheduleAlreadyRunning, ScheduleOverlapPolicy } = lazy.temporalClient();
      const options: ScheduleOptions = {
        scheduleId: c.scheduleId,
        spec: { intervals: [{ every: c.sweepInterval as `${number}m` }] },
        // A sweep still running when the next is due is not doubled: the next one simply waits for its turn.
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        // A trigger, not the sweep itself: it starts the sweep under the mailbox's one id (mailboxSweepId), so a
        // tick never overlaps a sweep the watch or `mail2waf run` started.
        action: {
          type: 'startWorkflow',
          workflowType: 'scheduledSweepWorkflow',
          workflowId: `${c.scheduleId}-tick`,
          taskQueue: c.taskQueue,
          args: [{ sweepWorkflowId: mailboxSweepId(c.scheduleId, c.mailbox), sweep: sweepInput(ctx, {}) }],
          staticSummary: `every ${c.sweepInterval}: start the sweep of mailbox ${c.mailbox} unless one runs`,
        },
      };
      let created = true;
      try {
        await client.schedule.create(options);
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        created = false;
        await client.schedule.getHandle(c.scheduleId).update((prev) => ({
          ...prev,
          spec: options.spec,
          policies: { ...prev.policies, ...options.policies },
          action: options.action,
        }));
      }
      const summary = await describe();
      printer().result({ ...summary, created }, (s) => `${created ? 'created' : 'updated'} ${human(s)}`);
    });

  for (const [verb, help] of [
    ['pause', 'pause the schedule (sweeps stop until resume)'],
    ['resume', 'resume a paused schedule'],
  ] as const) {
    schedule
      .command(verb)
      .description(help)
      .option('--note <text>', 'why (shown in describe and the Web UI)')
      .action(async (opts: { note?: string }) => {
        const id = ctx.readConfig().scheduleId;
        const handle = (await ctx.client()).schedule.getHandle(id);
        const { ScheduleNotFoundError } = lazy.temporalClient();
        const note = opts.note ?? `${verb}d by ${ctx.actor()} via mail2waf`;
        await (verb === 'pause' ? handle.pause(note) : handle.unpause(note)).catch((e) =>
          e instanceof ScheduleNotFoundError ? notFound(id) : Promise.reject(e),
        );
        printer().result(await describe(), human);
      });
  }

  schedule
    .command('describe')
    .description('show the schedule: interval, paused or not, next and recent runs')
    .action(async () => printer().result(await describe(), human));

  schedule
    .command('delete')
    .description('delete the schedule (running sweeps finish)')
    .action(async () => {
      const id = ctx.readConfig().scheduleId;
      const client = await ctx.client();
      const { ScheduleNotFoundError } = lazy.temporalClient();
      await client.schedule
        .getHandle(id)
        .delete()
        .catch((e) => (e instanceof ScheduleNotFoundError ? notFound(id) : Promise.reject(e)));
      printer().result({ scheduleId: id, deleted: true }, () => `deleted schedule ${id}`);
    });
}
