import { parseArgs } from 'node:util';
import { ConfigError } from '../config/fields.js';
import { ScenarioError } from './scenario.js';
import { startSimulator, type Simulator } from './server.js';
import { listeningOn } from '../cli/port-in-use.js';

/** `zai-proxy sim [--port N] [--host H] [--scenario '<json>']` */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string' },
    },
    strict: true,
  });
  const portVariable = values.port !== undefined ? '--port' : 'SIM_PORT';
  const rawPort = values.port ?? process.env.SIM_PORT ?? '9999';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535)
    throw new ConfigError(`invalid configuration: --port must be an integer between 0 and 65535 (got ${JSON.stringify(rawPort)})`);
  let scenario: unknown;
  if (values.scenario !== undefined) {
    try {
      scenario = JSON.parse(values.scenario);
    } catch {
      throw new ConfigError('invalid configuration: --scenario must be a JSON object');
    }
  }
  let sim: Simulator;
  try {
    sim = await listeningOn(portVariable, port, () => startSimulator({ port, host: values.host, scenario: scenario as never }));
  } catch (err) {
    if (err instanceof ScenarioError) throw new ConfigError(`invalid configuration: --scenario: ${err.message}`);
    throw err;
  }
  process.stdout.write(`zai-proxy sim listening on ${sim.url} (OpenAI base ${sim.openaiBaseUrl}, Anthropic base ${sim.anthropicBaseUrl})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
}
