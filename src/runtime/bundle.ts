// The files of a container's directory that are not the spec: its sub-directories and the /etc files bind-
// mounted into it (hostname, hosts, resolv.conf as docker writes them). Independent writes go out together:
// on a loaded disk each sequential write was a few ms of `create`. joinNetns() edits the written spec.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EtcFiles } from './spec.ts';
import { hostResolvConf } from './proc.ts';

/** rootfs/ (mount point), upper/ + work/ (the writable layer), exits/ (conmon's exit file). */
export async function makeContainerDirs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(['rootfs', 'upper', 'work', 'exits'].map((d) => mkdir(join(dir, d))));
}

/** Writes hostname, hosts (docker's default lines, extra hosts, the hostname on 127.0.1.1) and resolv.conf. */
export async function writeEtcFiles(dir: string, hostname: string, extraHosts: string[] = [], resolvConf?: string): Promise<Required<EtcFiles>> {
  const etc = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  await Promise.all([
    writeFile(etc.hostname, `${hostname}\n`),
    writeFile(etc.hosts, [
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters', ...extraHosts, `127.0.1.1\t${hostname}`, '',
    ].join('\n')),
    (async () => writeFile(etc.resolvConf, resolvConf ?? await hostResolvConf()))(),
  ]);
  return etc;
}

/**
 * Points the spec's network namespace at `netns` (a path: another container's `/proc/<pid>/ns/net`), for a
 * container whose namespace to join is known only when it starts (docker's --network container:NAME);
 * undefined: a new namespace (a prepared one that did not survive a reboot).
 */
export async function joinNetns(configPath: string, netns: string | undefined): Promise<void> {
  const spec = JSON.parse(await readFile(configPath, 'utf8')) as { linux?: { namespaces?: { type: string; path?: string }[] } };
  const list = (spec.linux ??= {}).namespaces ??= [];
  const net = list.find((n) => n.type === 'network');
  if (net) net.path = netns;
  else list.push({ type: 'network', ...(netns ? { path: netns } : {}) });
  if (net && !netns) delete net.path;
  await writeFile(configPath, JSON.stringify(spec));
}
