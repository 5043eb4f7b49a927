import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { requireBinary } from '../support/binaries.js';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const promtool = requireBinary('promtool');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; annotations?: Record<string, string> }[] }[];
}
interface TestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('alert unit test coverage', () => {
  it('every alert has a case where it fires and one where it stays quiet', () => {
    const rules = parse(readFileSync(`${dir}/rules/zai-proxy.rules.yml`, 'utf8')) as RuleFile;
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    const cases = readdirSync(`${dir}/tests`)
      .filter((f) => f.endsWith('.yml'))
      .flatMap((f) => (parse(readFileSync(`${dir}/tests/${f}`, 'utf8')) as TestFile).tests)
      .flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} never shown firing`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} never shown quiet`,
      );
    }
  });
});

describe('alert runbooks', () => {
  it('every alert carries a runbook_url', () => {
    const rules = parse(readFileSync(`${dir}/rules/zai-proxy.rules.yml`, 'utf8')) as RuleFile;
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const without = alerts.filter((r) => !r.annotations?.runbook_url).map((r) => r.alert);
    assert.deepEqual(without, [], `alerts without a runbook_url: ${without.join(', ')}`);
  });

  it('every runbook_url is a runbook in this repository and names one of its sections', () => {
    const rules = parse(readFileSync(`${dir}/rules/zai-proxy.rules.yml`, 'utf8')) as RuleFile;
    const linked = rules.groups.flatMap((g) => g.rules).filter((r) => r.annotations?.runbook_url !== undefined);
    assert.ok(linked.length > 0, 'some alert links a runbook');
    for (const r of linked) {
      const [path, anchor] = r.annotations!.runbook_url!.split('#');
      assert.match(path!, /^docs\/runbooks\/[a-z0-9-]+\.md$/, `${r.alert}: ${path}`);
      assert.ok(existsSync(`${repo}${path}`), `${r.alert}: ${path} does not exist`);
      const anchors = readFileSync(`${repo}${path}`, 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, '')));
      assert.ok(anchor && anchors.includes(anchor), `${r.alert}: ${path} has no section #${anchor} (it has ${anchors.join(', ')})`);
    }
  });
});

describe('deploy/prometheus with promtool', { skip: promtool.skip }, () => {
  it('the local scrape config and the rule file it loads are valid', async () => {
    const { stdout } = await run(promtool.path!, ['check', 'config', 'prometheus.yml'], { cwd: dir });
    assert.match(stdout, /prometheus\.yml is valid prometheus config file syntax/);
    assert.match(stdout, /SUCCESS: \d+ rules found/);
  });

  it('the alert rules are valid', async () => {
    const { stdout } = await run(promtool.path!, ['check', 'rules', 'rules/zai-proxy.rules.yml'], { cwd: dir });
    assert.match(stdout, /SUCCESS: 12 rules found/);
  });

  it('every alert passes its unit tests', async () => {
    const tests = readdirSync(`${dir}/tests`)
      .filter((f) => f.endsWith('.yml'))
      .map((f) => `tests/${f}`);
    assert.ok(tests.length >= 3);
    // promtool exits non-zero (execFile rejects) when any test fails.
    const { stdout } = await run(promtool.path!, ['test', 'rules', ...tests], { cwd: dir });
    assert.equal(stdout.match(/SUCCESS/g)?.length, tests.length, stdout);
  });
});
