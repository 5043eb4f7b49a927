import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import type { Resource } from '../support/kustomize.js';

/**
 * The OpenAPI-derived JSON schemas the kubernetes-models packages ship (core and apps), and the
 * Prometheus Operator's CRD schemas, one per kind the manifests hold. validate() throws naming
 * the first field that the API server would reject.
 */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Namespace': Namespace,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule,
};

export function validateAgainstSchema(r: Resource): void {
  const Model = models[`${r.apiVersion} ${r.kind}`];
  if (!Model) throw new Error(`no schema for ${r.apiVersion} ${r.kind} ${r.metadata.name}: add its model`);
  try {
    new Model(r as never).validate();
  } catch (err) {
    throw new Error(`${r.kind} ${r.metadata.name}: ${(err as Error).message}`);
  }
}
