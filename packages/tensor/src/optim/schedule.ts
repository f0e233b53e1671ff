import { TensorError } from '../core/errors.js';

/**
 * Hugging Face's `get_linear_schedule_with_warmup`: the learning-rate factor rises linearly
 * from 0 to 1 over `warmupSteps`, then falls linearly to 0 at `totalSteps`.
 * @returns the learning rate at `step` (0-based, the value used for the update after `step` steps).
 */
export function linearWarmupDecay(step: number, baseLr: number, warmupSteps: number, totalSteps: number): number {
  if (totalSteps <= 0) throw new TensorError('ARGUMENT', `totalSteps must be positive, got ${totalSteps}`);
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** A stateful wrapper that sets an optimiser's `lr` each step, like a PyTorch LambdaLR. */
export class LinearWarmupSchedule {
  private stepIndex = 0;
  constructor(
    private readonly optimizer: { lr: number },
    /** Peak learning rate. */
    readonly baseLr: number,
    /** Warmup length in steps. */
    readonly warmupSteps: number,
    /** Total training steps. */
    readonly totalSteps: number,
  ) {
    optimizer.lr = linearWarmupDecay(0, baseLr, warmupSteps, totalSteps);
  }

  /** Advances one step and updates the optimiser's learning rate. */
  step(): void {
    this.stepIndex++;
    this.optimizer.lr = linearWarmupDecay(this.stepIndex, this.baseLr, this.warmupSteps, this.totalSteps);
  }

  /** Steps taken so far (for checkpoints). */
  get current(): number {
    return this.stepIndex;
  }

  /** Jumps to a step (when resuming). */
  set current(s: number) {
    this.stepIndex = s;
    this.optimizer.lr = linearWarmupDecay(s, this.baseLr, this.warmupSteps, this.totalSteps);
  }
}
