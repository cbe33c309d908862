import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'waymark.js');
const waymark = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('bin/waymark.js', () => {
  it('is the executable package.json names as the waymark bin', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin).toEqual({ waymark: 'bin/waymark.js' });
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(() => accessSync(BIN, constants.X_OK)).not.toThrow();
  });

  it('passes the arguments through and exits with the code run returns', () => {
    const ok = waymark('validate', 'statemachines/cart-abandonment.json');
    expect([ok.status, ok.stdout]).toEqual([0, 'OK statemachines/cart-abandonment.json: journey "cart-abandonment", 8 nodes, 35 states\n']);
    const invalid = waymark('validate', 'test/fixtures/journeys/invalid-graph.json');
    expect(invalid.status).toBe(1);
    const usage = waymark('frobnicate');
    expect([usage.status, usage.stderr.split('\n')[0]]).toEqual([2, 'waymark: unknown command "frobnicate"']);
  });
});
