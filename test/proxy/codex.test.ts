import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simContent, startSimulator, type Simulator } from '../../src/sim/index.js';
import { startProxyFor, type TestProxy } from '../support/proxy.js';
import { metricValue } from '../support/metric-values.js';

/**
 * Codex CLI (the real binary from @openai/codex) in non-interactive `exec --json` mode,
 * pointed at the proxy's Responses route through a custom model provider, in front of the
 * simulator. HOME and CODEX_HOME are a throwaway directory, the only environment passed is
 * PATH and the client key, and commands run in a scratch directory under Codex's own
 * workspace-write sandbox with approvals off.
 */
const CODEX = new URL('../../node_modules/.bin/codex', import.meta.url).pathname;
const OPERATOR_KEY = 'zai-operator-key-codex-8d41';
const CLIENT_KEY = 'proxy-client-key-codex-19b0';
const CHAT = '/api/paas/v4/chat/completions';

interface CodexEvent {
  type: string;
  item?: { type: string; text?: string; command?: string; aggregated_output?: string; exit_code?: number | null; status?: string };
  usage?: { input_tokens: number; cached_input_tokens: number; output_tokens: number };
}

describe('Codex CLI through the proxy (Responses API over Z.AI chat completions)', () => {
  let sim: Simulator;
  let proxy: TestProxy;
  let root: string;
  let home: string;

  before(async () => {
    sim = await startSimulator({ scenario: { requiredKey: OPERATOR_KEY } });
    proxy = await startProxyFor(sim, {
      ZAI_API_KEY: OPERATOR_KEY,
      PROXY_API_KEYS: CLIENT_KEY,
      RATE_LIMIT_ENABLED: 'false',
    });
    root = mkdtempSync(join(tmpdir(), 'zai-codex-'));
    home = join(root, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.toml'),
      [
        'model = "glm-4.7"',
        'model_provider = "zai"',
        'approval_policy = "never"',
        'sandbox_mode = "workspace-write"',
        '',
        '[sandbox_workspace_write]',
        // Only the scratch directory is writable: not /tmp, not $TMPDIR.
        'exclude_slash_tmp = true',
        'exclude_tmpdir_env_var = true',
        '',
        '[model_providers.zai]',
        'name = "zai-proxy"',
        `base_url = "${proxy.url}/v1"`,
        'wire_api = "responses"',
        'env_key = "ZAI_PROXY_CLIENT_KEY"',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await proxy.close();
    await sim.close();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.resetScenario();
    sim.resetStats();
  });

  /** Runs one `codex exec --json` turn in `cwd` and returns its JSONL events. */
  function codex(prompt: string, cwd: string): Promise<CodexEvent[]> {
    return new Promise((resolve, reject) => {
      execFile(
        CODEX,
        ['exec', '--json', '--skip-git-repo-check', prompt],
        { cwd, env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, ZAI_PROXY_CLIENT_KEY: CLIENT_KEY }, timeout: 120_000 },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`codex failed: ${err.message}\n${stderr}\n${stdout}`));
          resolve(
            stdout
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l) as CodexEvent),
          );
        },
      ).stdin?.end();
    });
  }

  const tokens = (direction: string) => metricValue(proxy.metrics, 'zai_proxy_tokens_total', { model: 'glm-4.7', direction });
  const counters = async () => ({ input: (await tokens('input')) + (await tokens('cache_read')), output: await tokens('output') });

  function turnUsage(events: CodexEvent[]) {
    const done = events.find((e) => e.type === 'turn.completed');
    assert.ok(done?.usage, `no turn.completed in ${JSON.stringify(events)}`);
    return done.usage;
  }

  it('a text turn: the agent message, its usage, and the proxy counters moved by that usage', async () => {
    const scratch = mkdtempSync(join(root, 'text-'));
    sim.setScenario({ toolUse: 'none' });
    const before = await counters();
    const responsesBefore = await metricValue(proxy.metrics, 'zai_proxy_requests_total', { path: '/v1/responses', status_code: '200' });
    const events = await codex('say hello', scratch);
    const messages = events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item!.text);
    assert.deepEqual(messages, [simContent(5)]);
    const usage = turnUsage(events);
    assert.equal(usage.output_tokens, 20);
    assert.ok(usage.input_tokens > 1000, `Codex's instructions and tools are counted: ${usage.input_tokens}`);
    const after = await counters();
    assert.deepEqual({ input: after.input - before.input, output: after.output - before.output }, { input: usage.input_tokens, output: usage.output_tokens });
    assert.equal(sim.stats().byRoute[CHAT], 1);
    assert.equal(await metricValue(proxy.metrics, 'zai_proxy_requests_total', { path: '/v1/responses', status_code: '200' }), responsesBefore + 1);
    assert.deepEqual(sim.stats().lastAuth[CHAT], { authorization: `Bearer ${OPERATOR_KEY}` }, 'the client key stays at the proxy');
  });

  it('a shell-tool round trip in a scratch directory: the command runs sandboxed, its output goes back, the turn ends in text', async () => {
    const scratch = mkdtempSync(join(root, 'shell-'));
    sim.setScenario({
      toolCalls: [
        { name: 'exec_command', arguments: { cmd: 'echo hello-from-codex > out.txt && cat out.txt' } },
        { name: 'exec_command', arguments: { cmd: 'echo escaped > ../outside.txt' } },
      ],
    });
    // The simulator calls a tool whenever the last message is not a tool result: after the
    // first result it answers text, so the second scripted call (an escape attempt) is the
    // second turn's.
    const before = await counters();
    const events = await codex('write a file', scratch);
    const commands = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'command_execution').map((e) => e.item!);
    assert.equal(commands.length, 1, JSON.stringify(events));
    assert.equal(commands[0]!.exit_code, 0);
    assert.equal(commands[0]!.aggregated_output, 'hello-from-codex\n');
    assert.equal(readFileSync(join(scratch, 'out.txt'), 'utf8'), 'hello-from-codex\n');
    assert.deepEqual(
      events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item!.text),
      [simContent(5)],
    );
    assert.equal(sim.stats().byRoute[CHAT], 2, 'one call for the tool call, one after its result');
    const sent = sim.stats().lastBody as { messages: Array<{ role: string; content: unknown; tool_calls?: unknown[] }> };
    const toolMessage = sent.messages.at(-1)!;
    assert.equal(toolMessage.role, 'tool');
    assert.match(String(toolMessage.content), /hello-from-codex/);
    const usage = turnUsage(events);
    const after = await counters();
    assert.deepEqual({ input: after.input - before.input, output: after.output - before.output }, { input: usage.input_tokens, output: usage.output_tokens });

    const outside = await codex('now write outside', scratch);
    // Codex reports a command its sandbox refused only to the model: read it where the model does.
    assert.ok(turnUsage(outside).output_tokens > 0);
    const refused = (sim.stats().lastBody as { messages: Array<{ role: string; content: unknown }> }).messages.at(-1)!;
    assert.equal(refused.role, 'tool');
    assert.match(String(refused.content), /exited with code [1-9][\s\S]*Read-only file system/, String(refused.content));
    assert.equal(existsSync(join(scratch, '..', 'outside.txt')), false, 'nothing was written outside the scratch directory');
  });
});
