import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '@tpvjs/tensor';

/** Everything needed to continue a run exactly where it stopped. */
export interface CheckpointState {
  /** Format version of this file. */
  version: 1;
  /** Optimiser steps done. */
  step: number;
  /** Generator state of the dropout stream after `step` steps. */
  rng: { key0: number; key1: number; offset: number };
  /** Best mean validation loss so far and the step it was seen at. */
  bestLoss: number;
  bestStep: number;
  /** Training losses per step and validation losses per evaluation. */
  trainLosses: { step: number; loss: number }[];
  evalLosses: { step: number; loss: number; perTask: Record<string, number> }[];
  /** A fingerprint of the run's settings, so a resume with other settings is refused. */
  fingerprint: string;
}

/** Tensors saved next to the state. */
export interface CheckpointTensors {
  prompt: Float32Array;
  best: Float32Array;
  m: Float32Array;
  v: Float32Array;
  shape: number[];
}

/**
 * Writes `dir/checkpoint` atomically: everything goes to a fresh temporary folder first, which
 * then replaces the old checkpoint by rename, so a crash leaves either the old or the new one.
 */
export function saveCheckpoint(dir: string, state: CheckpointState, t: CheckpointTensors): void {
  const final = join(dir, 'checkpoint');
  const tmp = join(dir, `.checkpoint.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const f32 = (data: Float32Array) => ({ dtype: 'F32' as const, shape: t.shape, data });
  writeSafetensors(join(tmp, 'tensors.safetensors'), { prompt: f32(t.prompt), best: f32(t.best), exp_avg: f32(t.m), exp_avg_sq: f32(t.v) }, { format: 'tpv-checkpoint' });
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(state));
  const old = join(dir, `.checkpoint.old-${process.pid}`);
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/** Reads `dir/checkpoint`, or returns null when there is none. */
export function loadCheckpoint(dir: string): { state: CheckpointState; tensors: CheckpointTensors } | null {
  const final = join(dir, 'checkpoint');
  if (!existsSync(join(final, 'state.json'))) return null;
  const state = JSON.parse(readFileSync(join(final, 'state.json'), 'utf8')) as CheckpointState;
  const f = SafetensorsFile.open(join(final, 'tensors.safetensors'));
  try {
    const p = f.readFloat32('prompt');
    return {
      state,
      tensors: { prompt: p.data, best: f.readFloat32('best').data, m: f.readFloat32('exp_avg').data, v: f.readFloat32('exp_avg_sq').data, shape: p.shape },
    };
  } finally {
    f.close();
  }
}
