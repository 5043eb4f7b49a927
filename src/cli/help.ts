/**
 * `zai-proxy <command> --help`: what the command runs and what it reads, printed without starting
 * anything. The variable lists come from the configuration shapes, so they cannot drift from what
 * the command accepts; docs/configuration.md explains each one.
 */
const DOCS = 'Every variable, its default and meaning: docs/configuration.md';

async function proxyVariables(): Promise<string[]> {
  return Object.keys((await import('../config/proxy.js')).proxyEnvShape);
}
async function dashboardVariables(): Promise<string[]> {
  return Object.keys((await import('../config/dashboard.js')).dashboardEnvShape);
}

/** Wraps names into lines of at most ~90 columns. */
function wrap(names: string[], indent = '  '): string {
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line.length + n.length + 1 > 88) {
      lines.push(line);
      line = '';
    }
    line += (line ? ' ' : '') + n;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

const texts: Record<string, () => Promise<string>> = {
  serve: async () =>
    `usage: zai-proxy serve\n\nRuns the proxy: /v1/* to Z.AI, /health, /ready, /metrics, /quota, POST /admin/reset-rate-limit.\nConfigured by the environment only:\n${wrap(await proxyVariables())}\n`,
  dashboard: async () =>
    `usage: zai-proxy dashboard\n\nRuns the collector, the SQLite history, the REST + SSE API and the web UI.\nConfigured by the environment only:\n${wrap(await dashboardVariables())}\n`,
  start: async () =>
    `usage: zai-proxy start\n\nRuns the proxy and the dashboard in one process (npm start); the dashboard scrapes this\nproxy unless SCRAPE_TARGETS or PROMETHEUS_URL says otherwise.\nProxy variables:\n${wrap(await proxyVariables())}\nDashboard variables:\n${wrap(await dashboardVariables())}\n`,
  demo: async () =>
    'usage: zai-proxy demo\n\nStarts the simulator, a stable and a canary proxy, the dashboard and synthetic traffic,\nall on loopback, so every panel has data within a minute. Ports:\n  DASHBOARD_PORT  dashboard (3000)\n  PORT            stable proxy (8080); the canary listens on PORT+1\n  SIM_PORT        simulator (9999)\n  LOG_LEVEL       log level of every part (warn)\n',
  sim: async () =>
    'usage: zai-proxy sim [--port N] [--host H] [--scenario JSON]\n\nRuns the Z.AI simulator (OpenAI base /api/paas/v4, Anthropic base /api/anthropic, quota\n/api/monitor/usage/quota/limit).\n  --port N         listen port (SIM_PORT, default 9999; 0 picks a free one)\n  --host H         listen address (127.0.0.1)\n  --scenario JSON  latency, usage, limits and faults to play (see src/sim/scenario.ts)\n',
  'canary-report': async () => (await import('../canary/main.js')).USAGE,
  'verify-monitoring': async () =>
    `${(await import('../monitoring/verify-main.js')).USAGE}\n\nChecks a live Prometheus the way an operator would: targets up, every catalogue metric\npresent with its labels, rules loaded, and (with --grafana-dashboard) every panel's query\nanswering. Exit 0 when every check passes, 1 otherwise. See docs/monitoring.md.\n`,
};

export async function helpFor(command: string): Promise<string> {
  const text = texts[command];
  return text ? `${await text()}\n${DOCS}\n` : '';
}
