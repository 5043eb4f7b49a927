import { ConfigError } from '../config/fields.js';

/**
 * Runs `start` (something that listens on `port`) and turns the failures a setting causes into one
 * line that names the variable to change, instead of a stack trace: the port in use, a port that
 * needs privileges, and (with `hostVariable`) a listen address that does not resolve or is not
 * this machine's. Other failures pass through unchanged.
 */
export async function listeningOn<T>(
  variable: string,
  port: number,
  start: () => Promise<T>,
  setting = `${variable}=${port}`,
  hostVariable?: string,
): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { hostname?: string; address?: string };
    if (e.code === 'EADDRINUSE') {
      throw new ConfigError(`port ${port} is already in use (${setting}); stop what listens there or set ${variable} to a free port`);
    }
    if (e.code === 'EACCES' && e.syscall === 'listen') {
      throw new ConfigError(`port ${port} needs privileges this process does not have (${setting}); set ${variable} to 1024 or above`);
    }
    const host = e.hostname ?? e.address;
    if (hostVariable && (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EADDRNOTAVAIL') && host !== undefined) {
      const why = e.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : 'does not resolve';
      throw new ConfigError(
        `cannot listen on ${JSON.stringify(host)} (${hostVariable}): it ${why}; set ${hostVariable} to 127.0.0.1, 0.0.0.0 or one of this machine's addresses`,
      );
    }
    throw err;
  }
}
