// Staging enrolment (issue 13 item 10; white paper "device.set"): a pending phone's enrolment
// file carries the SAME credentials on every read until the phone uses them (derived from a
// store secret and the MAC, nothing recoverable stored), and `polyprov staging reset MAC`
// withdraws them so the next staging read issues new ones. Both go through the admin service.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { polyprov } from './run-cli.ts';

const MAC3 = '0004f2000003';
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const staging = basic('PlcmSpIp', 'PlcmSpIp');
let s: TestServer;
let data: string;
let enrolled = '';

async function enrolmentCredentials(): Promise<{ user: string; password: string }> {
  const r = await req(`${s.url}/overrides/${MAC3}-phone.cfg`, { headers: staging });
  expect(r.status).toBe(200);
  const body = r.body.toString();
  return { user: /device\.prov\.user="([^"]+)"/.exec(body)![1]!, password: /device\.prov\.password="([^"]+)"/.exec(body)![1]! };
}

beforeAll(async () => {
  data = tempDir();
  s = await startTestServer(standardTree({ [`${MAC3}-line.cfg`]: '<polycomConfig reg.1.address="1003"/>' }), { policy: 'accounts', staging: true, data });
});
afterAll(async () => s.close());

describe('staging enrolment (issue 13 item 10)', () => {
  test('reading a pending phone’s enrolment file again issues the same credentials, which then work', async () => {
    const first = await enrolmentCredentials();
    const again = await enrolmentCredentials();
    expect(again).toEqual(first);
    expect(first.password).toMatch(/^[A-Za-z0-9]{20}$/);
    // Nothing stored recovers it: not the account (HA1 only), not the settings, not the files.
    // (grep reads them in a child process: closing a descriptor of the database in this process,
    // which holds the server's connection, would drop SQLite's POSIX locks.)
    expect(spawnSync('grep', ['-rqF', first.password, data]).status).toBe(1);
    expect((await req(`${s.url}/${MAC3}-line.cfg`, { headers: basic(first.user, first.password) })).status).toBe(200);
    enrolled = first.password;
  });

  test('staging reset of a phone that uses its credentials: refused (exit 1) unless --force, which withdraws them', async () => {
    const refused = await polyprovState(['staging', 'reset', MAC3, '--json']);
    expect(refused.code).toBe(1); // the phone used its account in the test above
    expect(JSON.parse(refused.stdout)).toMatchObject({ mac: MAC3, reset: false, account: `phone-${MAC3}` });
    expect(await enrolmentCredentialsOrNone()).toBeUndefined(); // enrolled: the staging account no longer reaches it
    const forced = await polyprovState(['staging', 'reset', MAC3, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ mac: MAC3, reset: true, account: `phone-${MAC3}` });
    await new Promise((res) => setTimeout(res, 2100)); // the server's account cache is 2 s
    const next = await enrolmentCredentialsOrNone();
    expect(next).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(next).not.toBe(enrolled);
  }, 60_000);
});

describe('staging reset of a pending phone', () => {
  test('the next staging read issues different credentials; the withdrawn ones are refused; the reset is in the change record', async () => {
    const MAC4 = '0004f2000004';
    const read = async () => {
      const r = await req(`${s.url}/overrides/${MAC4}-phone.cfg`, { headers: staging });
      expect(r.status).toBe(200);
      return /device\.prov\.password="([^"]+)"/.exec(r.body.toString())![1]!;
    };
    const pending = await read();
    expect(await read()).toBe(pending);
    const r = await polyprovState(['staging', 'reset', '00:04:f2:00:00:04', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ mac: MAC4, reset: true, account: `phone-${MAC4}` });
    await new Promise((res) => setTimeout(res, 2100)); // the server's account cache is 2 s
    expect((await req(`${s.url}/site.cfg`, { headers: basic(`phone-${MAC4}`, pending) })).status).toBe(401);
    const fresh = await read();
    expect(fresh).not.toBe(pending);
    expect(await read()).toBe(fresh);
    const changes = JSON.parse((await polyprovState(['changes', '--target', MAC4, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(changes).toEqual([expect.objectContaining({ operation: 'staging.reset', target: MAC4, old: { account: `phone-${MAC4}`, pending: true } })]);
    expect(JSON.stringify(changes)).not.toContain(pending);
  }, 60_000);
});

describe('who made a change', () => {
  test('the running server’s admin service records the name it acts as (an API token’s, later), readable with polyprov changes', async () => {
    await s.adminAs('token:provisioning-ci').staging.set(false);
    const r = await polyprovState(['changes', '--target', 'staging', '--json']);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ who: 'token:provisioning-ci', operation: 'staging.set', old: { staging: true }, new: { staging: false } })]);
  }, 30_000);
});

function polyprovState(args: string[]) {
  return polyprov([...args, '--data', data]);
}

async function enrolmentCredentialsOrNone(): Promise<string | undefined> {
  const r = await req(`${s.url}/overrides/${MAC3}-phone.cfg`, { headers: staging });
  return /device\.prov\.password="([^"]+)"/.exec(r.body.toString())?.[1];
}
