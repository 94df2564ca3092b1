/**
 * The state of one held message and its rules: the first answer wins, an Update to a decided approval is
 * refused before it reaches history, and what the approval reports once decided. approval.ts wires the handlers
 * to it and runs the steps; nothing here awaits.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { approvalOutcomes, approvalSummaryOf } from '../policy/sweep-plan';
import { reportAddresses } from '../report/addresses';
import type {
  ApprovalAnswer,
  ApprovalDecision,
  ApprovalInput,
  ApprovalState,
  BlockResult,
  SweepResult,
} from '../shared/types';

export class PendingApproval {
  readonly state: ApprovalState;
  /** What the preview said would be blocked: the summary shows it once in, the report lists it if not approved. */
  preview?: BlockResult;
  /** Whether the "about to time out" alert went out (it is cleared when the approval ends). */
  warned = false;

  constructor(
    readonly approvalId: string,
    readonly input: ApprovalInput,
    now: number,
  ) {
    this.state = {
      status: 'waiting',
      heldBecause: input.heldBecause,
      deadline: new Date(now + input.timeoutMs).toISOString(),
    };
  }

  get decided(): boolean {
    return this.state.status !== 'waiting';
  }

  /** An answer from a Signal or an Update; after the first, later ones change nothing and learn the decision. */
  decide(status: 'approved' | 'rejected', d: ApprovalDecision | undefined): ApprovalAnswer {
    if (!this.decided)
      Object.assign(this.state, { status, decidedBy: d?.actor || 'unknown', decisionReason: d?.reason });
    return { approvalId: this.approvalId, status: this.state.status, decidedBy: this.state.decidedBy };
  }

  /** Update validator: an answer to a decided (or timed-out) approval is refused, with what happened to it. */
  mustBeWaiting(): void {
    if (this.decided) {
      const by = this.state.decidedBy ? ` by ${this.state.decidedBy}` : '';
      throw ApplicationFailure.nonRetryable(
        `${this.approvalId} is not waiting: it was ${this.state.status}${by}`,
        'NotWaiting',
      );
    }
  }

  timedOut(): void {
    this.state.status = 'timed-out';
  }

  summary() {
    return approvalSummaryOf(this.input, this.approvalId, this.state, this.preview);
  }

  waitingText(): string {
    return `waiting for a person: ${this.input.heldBecause.code}, decide before ${this.state.deadline}`;
  }

  /** The decided approval as a sweep result, for the report: per address where it came from and until when. */
  resultOf(blocks: Record<string, BlockResult>, now: string): SweepResult {
    const { input, state } = this;
    const approved = state.status === 'approved';
    const result: SweepResult = {
      sweepId: this.approvalId,
      mailbox: input.messages[0]!.ref.mailbox,
      dryRun: false,
      messages: approvalOutcomes(input, state),
      block: blocks[input.targets[0]!.name],
      approval: state,
      notBlocked: approved ? undefined : this.preview?.added,
    };
    const [blocking, others] = approved ? [input.messages, []] : [[], input.messages];
    const listed = reportAddresses(blocking, others, now, input.sourceTtls, input.blockTtlMs);
    if (listed.addresses.length > 0) result.addresses = listed.addresses;
    if (listed.leftOut > 0) result.addressesLeftOut = listed.leftOut;
    return result;
  }
}
