import { stringify } from 'yaml';
import { analysisQueries, renderCondition, type ArmMatchers, type QueryWindows } from './rollout-queries.js';

/**
 * The Argo Rollouts AnalysisTemplate of deploy/kubernetes/rollout/. Both arms of a Rollout run
 * one pod template, so one DEPLOYMENT_VARIANT: they are told apart by pod name, which carries
 * the ReplicaSet's pod-template hash (`<rollout>-<hash>-<suffix>`; Prometheus Operator puts
 * `pod` on every scraped series).
 */

export const ROLLOUT_ARMS: ArmMatchers = {
  stable: 'namespace="{{args.namespace}}", pod=~"{{args.rollout}}-{{args.stable-hash}}-.*"',
  canary: 'namespace="{{args.namespace}}", pod=~"{{args.rollout}}-{{args.canary-hash}}-.*"',
};
/** The increases step at the ServiceMonitor's scrape interval (deploy/kubernetes/servicemonitor.yaml). */
export const ROLLOUT_WINDOWS: QueryWindows = { window: '10m', sustain: '2m', step: '15s' };
export const ROLLOUT_INITIAL_DELAY = '5m';
export const DEFAULT_PROMETHEUS_ADDRESS = 'http://prometheus-operated.monitoring.svc:9090';

export function renderAnalysisTemplate(): string {
  const metrics = analysisQueries(ROLLOUT_ARMS, ROLLOUT_WINDOWS).map((q) => ({
    name: q.name,
    interval: '1m',
    // The first measurement waits for half a window of canary traffic.
    initialDelay: ROLLOUT_INITIAL_DELAY,
    // One failed measurement aborts the rollout; inconclusive ones pause it.
    failureLimit: 0,
    successCondition: renderCondition(q.success),
    failureCondition: renderCondition(q.failure),
    provider: { prometheus: { address: '{{args.prometheus-address}}', query: q.query } },
  }));
  const template = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'zai-proxy-canary', labels: { 'app.kubernetes.io/name': 'zai-proxy' } },
    spec: {
      args: [
        { name: 'rollout' },
        { name: 'stable-hash' },
        { name: 'canary-hash' },
        { name: 'namespace', value: 'zai-proxy' },
        { name: 'prometheus-address', value: DEFAULT_PROMETHEUS_ADDRESS },
      ],
      metrics,
    },
  };
  const meanings = analysisQueries(ROLLOUT_ARMS, ROLLOUT_WINDOWS).map((q) => `#   ${q.name}: ${q.meaning}`);
  const header = [
    '# Generated from src/canary/rollout-queries.ts by deploy/kubernetes/rollout/generate.ts; do not edit.',
    '# Success on every metric = promote, a failure = roll back, inconclusive = hold (the rollout pauses).',
    ...meanings,
  ].join('\n');
  return `${header}\n${stringify(template, { lineWidth: 0 })}`;
}
