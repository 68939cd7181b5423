import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';

const execFileAsync = promisify(execFile);

/** Where a run happened: the numbers mean little without it. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  temporalCli: string | null;
  temporalServer: string | null;
  database: string | null;
  gitCommit: string | null;
}

async function firstLineOf(command: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: 10_000 });
    return stdout.trim().split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

/** The version the Temporal server reports about itself, or null when it does not answer. */
async function temporalServerVersion(address: string): Promise<string | null> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5_000 });
    try {
      return (await connection.workflowService.getSystemInfo({})).serverVersion || null;
    } finally {
      await connection.close();
    }
  } catch {
    return null;
  }
}

/** Cores, CPU model, memory, and the versions of node, the Temporal CLI and server, the database and the code. */
export async function describeMachine(db: Knex, temporalAddress: string): Promise<MachineInfo> {
  const cli = await ensureTemporalCli();
  // "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"
  const versionLine = (await firstLineOf(cli, ['--version'])) ?? '';
  const dirty = await firstLineOf('git', ['status', '--porcelain', '--untracked-files=no']);
  const commit = await firstLineOf('git', ['rev-parse', 'HEAD']);
  const [versionRows] = (await db.raw('SELECT VERSION() AS version')) as [Array<{ version: string }>];
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    temporalCli: /temporal version (\S+)/.exec(versionLine)?.[1] ?? null,
    temporalServer: (await temporalServerVersion(temporalAddress)) ?? /Server (\S+?)[,)]/.exec(versionLine)?.[1] ?? null,
    database: versionRows[0]?.version ?? null,
    gitCommit: commit === null ? null : `${commit}${dirty ? ' (with uncommitted changes)' : ''}`,
  };
}
