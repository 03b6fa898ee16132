import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// Real nginx (Debian package) for the end-to-end suites: a self-signed certificate for localhost
// and a server running one site file, in its own temporary directory; stopped at teardown.
export function nginxSite (t: { teardown: (fn: () => unknown) => void }, programs: { nginx: string, openssl: string }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-nginx-'))
  execFileSync(programs.openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' })
  return {
    dir,
    cert: path.join(dir, 'cert.pem'),
    key: path.join(dir, 'key.pem'),
    start (site: string) {
      writeFileSync(path.join(dir, 'site.conf'), site)
      writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`)
      const nginx = spawn(programs.nginx, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' })
      t.teardown(() => { nginx.kill('SIGQUIT') })
    }
  }
}

// A shipped site file with the edits a test needs; each must apply exactly once, so a shipped
// file that drifted fails the test, not a user later.
export function editSite (t: { equal: (a: unknown, b: unknown, msg: string) => void }, site: string, file: string, edits: Array<[RegExp, string]>): string {
  for (const [pattern, replacement] of edits) {
    t.equal(site.match(pattern)?.length ?? 0, 1, `${file} has ${pattern.source} once`)
    site = site.replace(pattern, replacement)
  }
  return site
}
