/** The worker's own sweep policy, handed to the sweep workflow at run time (workflows cannot read settings). */
import type { SweepPolicy } from '../shared/types';

export interface PolicyDeps {
  sweepPolicy: SweepPolicy;
}

export function createPolicyActivities(deps: PolicyDeps) {
  /** No I/O: the policy the worker loaded at start (a changed setting takes effect when the worker restarts). */
  async function sweepPolicy(): Promise<SweepPolicy> {
    return deps.sweepPolicy;
  }
  return { sweepPolicy };
}
