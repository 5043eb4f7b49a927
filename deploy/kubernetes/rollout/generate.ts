// Writes analysis-template.yaml from src/canary/rollout-queries.ts, so the rollout judges a
// canary exactly as `zai-proxy canary-report` does. Run after changing the judgement:
//   node --import tsx deploy/kubernetes/rollout/generate.ts
// (test/canary/rollout.test.ts fails while the file and the generator disagree).
import { writeFileSync } from 'node:fs';
import { renderAnalysisTemplate } from '../../../src/canary/analysis-template.js';

const target = new URL('./analysis-template.yaml', import.meta.url);
writeFileSync(target, renderAnalysisTemplate());
process.stdout.write(`wrote ${target.pathname}\n`);
