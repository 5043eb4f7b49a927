// nginx as a reference row: a proxy_pass with upstream keep-alive, one worker, no logging,
// started in the foreground from a throw-away prefix directory.
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const nginxInstalled = () => existsSync(NGINX);

/** Returns [command, args] that run nginx on `port` in front of `upstreamPort`. */
export function nginxCommand(port, upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'zai-bench-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  client_max_body_size 32m;
  client_body_buffer_size 2m;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 512; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  return [NGINX, ['-p', dir, '-c', conf]];
}
