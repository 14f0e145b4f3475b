/**
 * Free TCP ports, through get-port (see docs/local-stack.md, "Libraries").
 *
 * The kernel may give the same port to two listeners on port 0 opened one
 * after the other (the first one closed), and two emulators given one port
 * make the slower one fail to bind while the readiness check sees the
 * faster one: so a port is reserved for the life of this process and never
 * handed out twice (get-port's `reserve`). Another process can still take a
 * port between our choosing it and our child binding it: the supervisor
 * (supervisor.ts) sees that at once and starts the child on another port.
 */
import getPort from 'get-port';

export const LOOPBACK = '127.0.0.1';

/**
 * A port free a moment ago on every local address, that this process has
 * not handed out before.
 */
export function freePort(): Promise<number> {
  return getPort({reserve: true});
}

/** The given port, or a free one when none (or 0) is given. */
export async function portOrFree(port: number | undefined): Promise<number> {
  return port ? port : freePort();
}
