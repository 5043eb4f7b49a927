import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dashboardEnvShape, readDashboardConfig } from '../../src/config/dashboard.js';
import { demoEnvShape, readDemoEnv } from '../../src/config/demo.js';
import { ConfigError } from '../../src/config/fields.js';
import { proxyEnvShape, readProxyEnv } from '../../src/config/proxy.js';
import { listeningOn } from '../../src/cli/port-in-use.js';

/**
 * Every variable each command reads, given values nobody means: each is either taken as it is
 * (free text: keys, names) or refused with a ConfigError of one line that names the variable.
 * Never a stack trace from deeper down (a TypeError, a URL parser's message) and never a
 * silent fallback to the default that hides a typo.
 */

const NONSENSE = ['%%nonsense%%', '-1', '1e999', ' ', '0x10', 'true false', '10 s', 'http://', '999999999999999999999'];
const readers: [string, Record<string, unknown>, (env: NodeJS.ProcessEnv) => unknown][] = [
  ['serve', proxyEnvShape, readProxyEnv],
  ['dashboard', dashboardEnvShape, readDashboardConfig],
  ['demo', demoEnvShape, readDemoEnv],
];
// Operator key present, so rules that need it (PROXY_API_KEYS, the quota poller) judge the value itself.
const BASE = { ZAI_API_KEY: 'k' };

describe('every environment value is validated with one line naming the variable', () => {
  for (const [command, shape, read] of readers) {
    it(`${command}: ${Object.keys(shape).length} variables`, () => {
      const problems: string[] = [];
      for (const name of Object.keys(shape)) {
        for (const value of NONSENSE) {
          try {
            read({ ...BASE, [name]: value });
          } catch (err) {
            if (!(err instanceof ConfigError)) problems.push(`${name}=${JSON.stringify(value)}: ${(err as Error).name}: ${(err as Error).message}`);
            else if (err.message.includes('\n')) problems.push(`${name}=${JSON.stringify(value)}: more than one line`);
            else if (!err.message.includes(name)) problems.push(`${name}=${JSON.stringify(value)}: "${err.message}" does not name ${name}`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

describe('listen failures a setting causes', () => {
  const failing = (e: Partial<NodeJS.ErrnoException> & { hostname?: string; address?: string }) => () =>
    Promise.reject(Object.assign(new Error('listen failed'), e));
  it('name the variable to change, in one line', async () => {
    await assert.rejects(
      listeningOn('PORT', 80, failing({ code: 'EACCES', syscall: 'listen' })),
      (e: unknown) =>
        e instanceof ConfigError && /^port 80 needs privileges this process does not have \(PORT=80\); set PORT to 1024 or above$/.test(e.message),
    );
    await assert.rejects(
      listeningOn('PORT', 8080, failing({ code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.9.9.9' }), undefined, 'HOST'),
      (e: unknown) => e instanceof ConfigError && /"10\.9\.9\.9" \(HOST\): it is not an address of this machine/.test(e.message),
    );
    await assert.rejects(
      listeningOn('PORT', 8080, failing({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'x.invalid' }), undefined, 'HOST'),
      (e: unknown) => e instanceof ConfigError && /"x\.invalid" \(HOST\): it does not resolve/.test(e.message),
    );
  });
  it('pass anything else through unchanged', async () => {
    await assert.rejects(
      listeningOn('PORT', 8080, failing({ code: 'EMFILE' })),
      (e: unknown) => !(e instanceof ConfigError) && (e as Error).message === 'listen failed',
    );
    // Without the host's variable there is nothing to name: the error stays as it was.
    await assert.rejects(listeningOn('PORT', 8080, failing({ code: 'ENOTFOUND', hostname: 'x.invalid' })), (e: unknown) => !(e instanceof ConfigError));
  });
});
