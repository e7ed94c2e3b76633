/**
 * What this host can offer: cpus, memory, disk of the work directory, NVIDIA
 * GPUs and a port range, less what the host itself needs, with `--resources`
 * overriding key by key.
 */
import { statfsSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from '../lib/log';
import { make, type Resources } from '../lib/resources';
import { detectGpus, type GpuInfo } from './gpu-detect';

const MB = 1024 * 1024;
/** Memory kept for the OS and the agent: min(1 GB, half of it). */
const MEM_RESERVE_MB = 1024;
/** Disk kept free in the work directory: min(5 GB, half of it). */
const DISK_RESERVE_MB = 5 * 1024;
export const DEFAULT_PORTS = { begin: 31000, end: 32000 };

export interface DetectOptions {
  /** The disk figure is the free space of the file system holding this directory (it must exist). */
  workDir: string;
  /** Values from `--resources`; each present key replaces the detected one. */
  overrides?: Partial<Resources>;
  /** Environment for finding nvidia-smi (its PATH). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface DetectedResources {
  resources: Resources;
  /** GPUs nvidia-smi listed; empty when `gpus` was overridden (nvidia-smi is then not run). */
  gpus: GpuInfo[];
}

/** host total − min(reserve, total / 2), floored to whole MB. */
export function afterReserve(totalMb: number, reserveMb: number): number {
  return Math.max(0, Math.floor(totalMb - Math.min(reserveMb, totalMb / 2)));
}

/**
 * Detects the host's resources and applies overrides. Never throws for a
 * missing GPU tool; throws if the work directory cannot be stat'ed.
 */
export async function detectResources(opts: DetectOptions): Promise<DetectedResources> {
  const o = opts.overrides ?? {};
  const cpus = o.cpus ?? os.cpus().length;
  const mem = o.mem ?? afterReserve(os.totalmem() / MB, MEM_RESERVE_MB);
  let disk = o.disk;
  if (disk === undefined) {
    const fs = statfsSync(opts.workDir);
    disk = afterReserve((fs.bavail * fs.bsize) / MB, DISK_RESERVE_MB);
  }
  let gpus: GpuInfo[] = [];
  let gpuCount = o.gpus;
  if (gpuCount === undefined) {
    gpus = await detectGpus({ env: opts.env, logger: opts.logger });
    gpuCount = gpus.length;
  }
  const ports = o.ports ?? [DEFAULT_PORTS];
  // Detected GPUs are named by uuid, in index order, so offers say which are free.
  const gpuIds = gpus.map((g) => g.uuid);
  return { resources: make({ cpus, mem, disk, gpus: gpuCount, ports, ...(gpuIds.length ? { gpuIds } : {}) }), gpus };
}
