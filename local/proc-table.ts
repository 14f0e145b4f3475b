/**
 * The live processes as Linux's /proc lists them: pid, parent, process
 * group and command, zombies excluded. The local stack finds a group's
 * members with it; the benchmarks walk process trees with it.
 */
import {readdirSync, readFileSync} from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** process group id */
  pgid: number;
  comm: string;
}

/** Every live process (zombies excluded), by pid. Throws when there is no /proc. */
export function processTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    table.set(Number(entry), {
      pid: Number(entry),
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      comm,
    });
  }
  return table;
}
