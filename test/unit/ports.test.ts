import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {freePort} from '../../local/ports.js';

describe('freePort', () => {
  it('never hands out the same port twice in a process', async () => {
    // the kernel readily returns a just-closed port again; that gave two emulators one port
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports) assert.ok(port > 0 && port < 65536);
  });
});
