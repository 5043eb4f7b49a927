import type { DashboardConfig } from '../config/dashboard.js';
import type { ProxyEnv } from '../config/proxy.js';
import { httpUrl } from '../lib/listen.js';

/**
 * The few human-readable lines `serve`, `dashboard` and `start` print (on stderr) before their
 * JSON logs: where to point clients, where the dashboard is, which upstream is used and whether
 * an operator key is set. Never a key itself.
 */

export function proxyLines(env: ProxyEnv): string[] {
  const url = httpUrl(env.HOST, env.PORT);
  const clients = env.PROXY_API_KEYS.length;
  return [
    `  proxy      ${url}   (OpenAI SDKs, Codex: ${url}/v1; Anthropic SDKs, Claude Code: ${url})`,
    `  upstream   ${env.ZAI_OPENAI_BASE_URL} (OpenAI-compatible), ${env.ZAI_ANTHROPIC_BASE_URL} (Anthropic-compatible)`,
    env.ZAI_API_KEY !== undefined
      ? '  key        ZAI_API_KEY is set: the proxy sends it upstream'
      : "  key        ZAI_API_KEY is not set: each client's own key goes upstream",
    clients > 0
      ? `  clients    PROXY_API_KEYS: ${clients} client key${clients === 1 ? '' : 's'} accepted, others get 401`
      : '  clients    any client may call (PROXY_API_KEYS is not set)',
    `  variant    ${env.DEPLOYMENT_VARIANT}${env.RATE_LIMIT_ENABLED ? '' : '   (rate limiter off)'}${env.QUOTA_POLL_ENABLED ? '   (quota poller on)' : ''}`,
  ];
}

export function dashboardLines(config: DashboardConfig): string[] {
  const source =
    config.prometheusUrl !== undefined
      ? `Prometheus ${config.prometheusUrl}`
      : `scrapes ${config.targets.length} target${config.targets.length === 1 ? '' : 's'} every ${config.scrapeIntervalMs / 1000}s into ${config.dbPath}`;
  return [`  dashboard  ${httpUrl(config.host, config.port)}   (${source})`];
}

export function banner(title: string, lines: string[]): string {
  return `\n${title}\n${lines.join('\n')}\n  docs       docs/README.md (configuration, deployment, 429s and quota)\n\n`;
}
