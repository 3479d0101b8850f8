// `berth info` / `berth system info` (docker/cli cli/command/system/info.go prettyPrintInfo): the client's
// facts, then the daemon's GET /info in docker's layout; warnings go to stderr. --format runs a template over
// {ClientInfo, …server fields}.
import type { SystemInfo } from '../../api/index.ts';
import { compile, run, bytesSize, goJSON } from '../format/index.ts';
import { defineCommand } from '../spec.ts';
import { StatusError, describeError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { INSPECT_FORMAT_HELP } from './flags.ts';

function serverText(i: SystemInfo, debug: boolean): string {
  const l: string[] = [];
  const p = (k: string, v: unknown) => l.push(` ${k}: ${v}`);
  p('Containers', i.Containers);
  l.push(`  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`);
  p('Images', i.Images);
  p('Server Version', i.ServerVersion);
  p('Storage Driver', i.Driver);
  for (const [k, v] of i.DriverStatus ?? []) l.push(`  ${k}: ${v}`);
  p('Logging Driver', i.LoggingDriver);
  p('Cgroup Driver', i.CgroupDriver);
  p('Cgroup Version', i.CgroupVersion);
  l.push(' Plugins:');
  l.push(`  Volume: ${(i.Plugins?.Volume ?? []).join(' ')}`);
  l.push(`  Network: ${(i.Plugins?.Network ?? []).join(' ')}`);
  if (i.Plugins?.Authorization?.length) l.push(`  Authorization: ${i.Plugins.Authorization.join(' ')}`);
  l.push(`  Log: ${(i.Plugins?.Log ?? []).join(' ')}`);
  p('Swarm', i.Swarm?.LocalNodeState || 'inactive');
  p('Runtimes', Object.keys(i.Runtimes ?? {}).sort().join(' '));
  p('Default Runtime', i.DefaultRuntime);
  p('Init Binary', i.InitBinary);
  l.push(` containerd version: ${i.ContainerdCommit?.ID ?? ''}`);
  l.push(` runc version: ${i.RuncCommit?.ID ?? ''}`);
  l.push(` init version: ${i.InitCommit?.ID ?? ''}`);
  if (i.SecurityOptions?.length) {
    l.push(' Security Options:');
    for (const o of i.SecurityOptions) {
      const kv = Object.fromEntries(o.split(',').map((s) => s.split('=') as [string, string]));
      l.push(`  ${kv.name ?? o}`);
      for (const [k, v] of Object.entries(kv)) if (k !== 'name') l.push(`   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  p('Kernel Version', i.KernelVersion);
  p('Operating System', i.OperatingSystem);
  p('OSType', i.OSType);
  p('Architecture', i.Architecture);
  p('CPUs', i.NCPU);
  p('Total Memory', bytesSize(i.MemTotal));
  p('Name', i.Name);
  p('ID', i.ID);
  p('Docker Root Dir', i.DockerRootDir);
  p('Debug Mode', i.Debug);
  if (i.Debug || debug) {
    l.push(`  File Descriptors: ${i.NFd}`, `  Goroutines: ${i.NGoroutines}`, `  System Time: ${i.SystemTime}`, `  EventsListeners: ${i.NEventsListener}`);
  }
  if (i.HttpProxy) p('HTTP Proxy', i.HttpProxy);
  if (i.HttpsProxy) p('HTTPS Proxy', i.HttpsProxy);
  if (i.NoProxy) p('No Proxy', i.NoProxy);
  if (i.Labels?.length) { l.push(' Labels:'); for (const x of i.Labels) l.push(`  ${x}`); }
  p('Experimental', i.ExperimentalBuild);
  const reg = i.RegistryConfig;
  if (reg) {
    const insecure = [...(reg.InsecureRegistryCIDRs ?? []),
      ...Object.values(reg.IndexConfigs ?? {}).filter((c) => !c.Secure).map((c) => c.Name)];
    if (insecure.length) { l.push(' Insecure Registries:'); for (const x of insecure) l.push(`  ${x}`); }
    if (reg.Mirrors?.length) { l.push(' Registry Mirrors:'); for (const x of reg.Mirrors) l.push(`  ${x}`); }
  }
  p('Live Restore Enabled', i.LiveRestoreEnabled);
  const pools = (i as { DefaultAddressPools?: { Base: string; Size: number }[] }).DefaultAddressPools;
  if (pools?.length) { l.push(' Default Address Pools:'); for (const x of pools) l.push(`   Base: ${x.Base}, Size: ${x.Size}`); }
  return l.join('\n') + '\n';
}

export const info = defineCommand({
  path: ['system', 'info'],
  aliases: [['info']],
  use: '[OPTIONS]',
  short: 'Display system-wide information',
  args: 'none',
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: INSPECT_FORMAT_HELP }],
  async run(ctx, opts) {
    const format = opts.str('format');
    const clientInfo = { Debug: ctx.debug, Version: VERSION, Context: 'default', Plugins: [], Warnings: null };
    let server: SystemInfo | undefined;
    let failure: unknown;
    try {
      server = await (await ctx.client()).json<SystemInfo>('GET', '/info');
    } catch (e) {
      failure = e;
    }
    if (format) {
      if (failure) throw failure;
      const data = { ClientInfo: clientInfo, ...server };
      if (format === 'json') { await ctx.out(goJSON(data) + '\n'); return; }
      let t;
      try { t = compile(format); } catch (e) { throw new StatusError((e as Error).message, 64); }
      await ctx.out(run(t, data) + '\n');
      return;
    }
    let out = `Client:\n Version:    ${VERSION}\n Context:    default\n Debug Mode: ${ctx.debug}\n`;
    out += '\nServer:\n';
    if (failure || !server) {
      await ctx.out(out);
      throw new StatusError(describeError(failure).text, 1);
    }
    out += serverText(server, ctx.debug);
    await ctx.out(out + '\n');
    for (const w of server.Warnings ?? []) ctx.err(`${w}\n`);
  },
});
