// Starting the servers under test and reading what they cost (RSS, CPU time) from /proc.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const children = [];
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function start(cmd, args, { cwd, env = {}, stdout = 'ignore' } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'inherit'] });
  children.push(child);
  return child;
}

export function stopAll(signal = 'SIGTERM') {
  for (const c of children) if (c.exitCode === null) c.kill(signal);
}

export async function waitUp(url, tries = 200) {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not come up`);
}

/** Resident set size in MB. */
export function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** User + system CPU seconds used so far by the process (and its reaped children). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based from state).
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds of a process and all its descendants (node:cluster workers, nginx workers). */
export function treeCpuSeconds(pid) {
  let total = cpuSeconds(pid);
  for (const child of childPids(pid)) total += treeCpuSeconds(child);
  return total;
}

export function treeRssMb(pid) {
  let total = rssMb(pid);
  for (const child of childPids(pid)) total += treeRssMb(child);
  return Math.round(total * 10) / 10;
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
