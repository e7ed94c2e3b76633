/**
 * NVIDIA GPU discovery through `nvidia-smi`, the one tool that every host
 * with the driver has. No GPU library is linked: a host without the driver
 * simply has no GPUs.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../lib/log';

export interface GpuInfo {
  /** nvidia-smi's index, the number CUDA_VISIBLE_DEVICES takes. */
  index: number;
  /** e.g. GPU-d7514950-b4a4-3d91-f436-246e22bde4e4; stable across reboots. */
  uuid: string;
  name: string;
  /** Total memory, MiB. */
  memoryMb: number;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'];

export interface GpuDetectOptions {
  /** Environment for the lookup; its PATH decides which nvidia-smi runs. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** A wedged driver can make nvidia-smi hang; give up after this long. Default 10 s. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Parses the output of `nvidia-smi --query-gpu=index,uuid,name,memory.total
 * --format=csv,noheader,nounits`, one GPU a line:
 * `0, GPU-d7514950-…, NVIDIA H100 80GB HBM3, 81559`. Lines that do not
 * have that shape are returned in `skipped`.
 */
export function parseNvidiaSmiQuery(text: string): { gpus: GpuInfo[]; skipped: string[] } {
  const gpus: GpuInfo[] = [];
  const skipped: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const fields = line.split(',').map((f) => f.trim());
    // The name never holds a comma in NVIDIA's naming, but be safe: index and
    // uuid come first and memory last, the name is what lies between.
    if (fields.length < 4) { skipped.push(line); continue; }
    const index = Number(fields[0]);
    const uuid = fields[1]!;
    const memoryMb = Number(fields[fields.length - 1]);
    const name = fields.slice(2, -1).join(', ');
    if (!Number.isInteger(index) || index < 0 || !uuid.startsWith('GPU-') || !Number.isFinite(memoryMb)) {
      skipped.push(line);
      continue;
    }
    gpus.push({ index, uuid, name, memoryMb });
  }
  return { gpus, skipped };
}

/**
 * Lists the host's NVIDIA GPUs. Never throws: when nvidia-smi is absent,
 * fails or times out, the host has no usable GPU and the answer is [] (said
 * once, at info level, with the reason).
 */
export function detectGpus(opts: GpuDetectOptions = {}): Promise<GpuInfo[]> {
  const log = opts.logger;
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      NVIDIA_SMI_ARGS,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 10_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
          let why: string;
          if (e.code === 'ENOENT') why = 'nvidia-smi is not on the PATH';
          else if (e.killed) why = `nvidia-smi did not answer within ${opts.timeoutMs ?? 10_000} ms`;
          else why = `nvidia-smi failed (${typeof e.code === 'number' ? `exit status ${e.code}` : e.message}): ${firstLine(stderr || stdout)}`;
          log?.info(`no GPUs: ${why}`);
          resolve([]);
          return;
        }
        const { gpus, skipped } = parseNvidiaSmiQuery(stdout);
        if (skipped.length) log?.warn(`ignored ${skipped.length} unparsable nvidia-smi line(s)`, { lines: skipped });
        if (gpus.length) log?.info(`found ${gpus.length} GPU(s): ${gpus.map((g) => `${g.index}:${g.name}`).join(', ')}`);
        else log?.info('no GPUs: nvidia-smi listed none');
        resolve(gpus);
      },
    );
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() || 'no output';
}
