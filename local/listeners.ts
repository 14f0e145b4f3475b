/**
 * Who listens on a TCP port, from /proc (Linux): a readiness probe answered
 * on "our" port proves nothing if another process holds it (another stack
 * on the same machine took the port between our choosing it and our child
 * binding it; the child then fails with "Address already in use", and the
 * Pub/Sub emulator even stays alive after that).
 */
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';
import {groupMembers} from './process-group.js';

/** Socket inodes listening on `port` (any address, IPv4 and IPv6); undefined without procfs. */
export function listeningInodes(port: number): Set<string> | undefined {
  const inodes = new Set<string>();
  let readAny = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
      readAny = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A: LISTEN
      const localPort = parseInt(fields[1].split(':')[1] ?? '', 16);
      if (localPort === port) inodes.add(fields[9]);
    }
  }
  return readAny ? inodes : undefined;
}

/** Socket inodes that process `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(
        readlinkSync(`/proc/${pid}/fd/${fd}`),
      );
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

export type PortOwner = 'group' | 'other' | 'nobody' | 'unknown';

/**
 * Whether the listener on `port` belongs to process group `pgid`: 'group',
 * another process ('other'), no listener ('nobody'), or 'unknown' (no
 * procfs, or another user's process we cannot inspect).
 */
export function portOwner(port: number, pgid: number): PortOwner {
  const listening = listeningInodes(port);
  if (listening === undefined) return 'unknown';
  if (listening.size === 0) return 'nobody';
  for (const pid of groupMembers(pgid)) {
    for (const inode of socketInodes(pid)) {
      if (listening.has(inode)) return 'group';
    }
  }
  return 'other';
}
