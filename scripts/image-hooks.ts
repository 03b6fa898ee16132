// What mmdebstrap does to its root file systems (scripts/container-image.ts): the customize hooks
// that make them look like the official images they stand in for. Each hook runs on the host,
// with the root file system's path as "$1".
import { writeFileSync } from 'node:fs'
import path from 'node:path'

// The official node image: node and npm in /usr/local, a `node` user (uid 1000); and the host's
// CA bundle (outgoing TLS is re-signed here).
export const nodeBaseHooks = (work: string) => [
  `--customize-hook=upload ${work}/node/package/bin/node /usr/local/bin/node`,
  '--customize-hook=chmod 755 "$1/usr/local/bin/node"',
  `--customize-hook=mkdir -p "$1/usr/local/lib/node_modules" && cp -a ${work}/npm/package "$1/usr/local/lib/node_modules/npm" && ` +
    'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
  '--customize-hook=mkdir -p "$1/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"',
  '--customize-hook=chroot "$1" useradd -u 1000 -m -s /bin/sh node'
]

// The official nginx image's entrypoint: the scripts of /docker-entrypoint.d/ (executable *.sh
// run, *.envsh sourced), in order, when the command is nginx; then the command.
const NGINX_ENTRYPOINT = `#!/bin/sh
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  for f in $(find /docker-entrypoint.d/ -follow -mindepth 1 -maxdepth 1 -type f | sort -V); do
    case "$f" in
      *.envsh) if [ -x "$f" ]; then . "$f"; fi ;;
      *.sh) if [ -x "$f" ]; then echo "$0: launching $f"; "$f"; else echo "$0: ignoring $f, not executable"; fi ;;
    esac
  done
fi
exec "$@"
`

// The official redis image's entrypoint: redis-server as the redis user, and without protected
// mode (its ports are only what the operator publishes).
const REDIS_ENTRYPOINT = `#!/bin/sh
set -e
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  chown -R redis: /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then set -- "$@" --protected-mode no; fi
exec "$@"
`

// nginx: no default site (the official image has none), logs to the container's output,
// /docker-entrypoint.d/; redis: /data, its entrypoint.
export function serviceHooks (work: string): string[] {
  writeFileSync(path.join(work, 'docker-entrypoint.sh'), NGINX_ENTRYPOINT, { mode: 0o755 })
  writeFileSync(path.join(work, 'redis-entrypoint.sh'), REDIS_ENTRYPOINT, { mode: 0o755 })
  return [
    '--customize-hook=rm -f "$1/etc/nginx/sites-enabled/default"',
    '--customize-hook=ln -sf /dev/stdout "$1/var/log/nginx/access.log" && ln -sf /dev/stderr "$1/var/log/nginx/error.log"',
    '--customize-hook=mkdir -p "$1/docker-entrypoint.d" "$1/data"',
    `--customize-hook=upload ${work}/docker-entrypoint.sh /docker-entrypoint.sh`,
    `--customize-hook=upload ${work}/redis-entrypoint.sh /usr/local/bin/redis-entrypoint.sh`,
    '--customize-hook=chmod 755 "$1/docker-entrypoint.sh" "$1/usr/local/bin/redis-entrypoint.sh"'
  ]
}
