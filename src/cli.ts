/** `zai-proxy <command>`: each command lives in its own module, loaded only when used. */
const commands: Record<string, { summary: string; run: (args: string[]) => Promise<void> }> = {
  serve: { summary: 'run the proxy', run: async (a) => (await import('./proxy/main.js')).main(a) },
  sim: { summary: 'run the Z.AI simulator', run: async (a) => (await import('./sim/main.js')).main(a) },
  dashboard: { summary: 'run the dashboard', run: async (a) => (await import('./dashboard/main.js')).main(a) },
  start: { summary: 'run proxy and dashboard together', run: async (a) => (await import('./start/main.js')).main(a) },
  demo: { summary: 'simulator, stable and canary proxies, dashboard and traffic', run: async (a) => (await import('./demo/main.js')).main(a) },
  'canary-report': {
    summary: 'compare canary with stable and give a verdict (exit 0 promote, 1 hold, 2 rollback)',
    run: async (a) => (await import('./canary/main.js')).main(a),
  },
  'verify-monitoring': {
    summary: 'check a live Prometheus the way an operator would',
    run: async (a) => (await import('./monitoring/verify-main.js')).main(a),
  },
};

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(20)}${c.summary}`);
    const out = `usage: zai-proxy <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      process.stdout.write(out);
      return;
    }
    process.stderr.write(`zai-proxy: unknown command "${name}"\n\n${out}`);
    process.exitCode = 2;
    return;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(await (await import('./cli/help.js')).helpFor(name!));
    return;
  }
  try {
    await command.run(args);
  } catch (err) {
    // Matched by name so `help` does not load the configuration modules (zod costs ~100 ms).
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(`zai-proxy ${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await run();
