import { parseArgs, type ParseArgsConfig } from 'node:util';

/** node:util's parseArgs, with its error (an unknown or malformed flag) turned into the command's own. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T, fail: (message: string) => Error): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw fail((err as Error).message);
  }
}
