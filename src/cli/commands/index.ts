// Every `berth` command, from this one table. An entry names the command's words (path and aliases, as in its
// CommandSpec) and how to load it: only the command on the line is loaded, so `berth version` does not evaluate
// the template engine's callers, the build context's tar code, cp, credentials (node:crypto, child_process) …
// Top-level evaluation of every command module cost ~8 ms of each start-up (issue 3). `--help` loads them all.
// To add a command: write commands/<verb>.ts exporting a CommandSpec (see ../spec.ts) and add one line here
// with the same path and aliases (index.test.ts checks they agree); a new management group gets a GROUPS line.
import type { CommandEntry, GroupSpec } from '../spec.ts';

export const GROUPS: GroupSpec[] = [
  { name: 'container', short: 'Manage containers' },
  { name: 'image', short: 'Manage images' },
  { name: 'system', short: 'Manage berth' },
  { name: 'volume', short: 'Manage volumes' },
  { name: 'network', short: 'Manage networks' },
];

export const COMMANDS: CommandEntry[] = [
  // images (issue 3)
  { path: ['image', 'ls'], aliases: ['list', ['images']], load: () => import('./images.ts').then((m) => m.images) },
  { path: ['image', 'inspect'], load: () => import('./inspect.ts').then((m) => m.imageInspect) },
  { path: ['inspect'], load: () => import('./inspect.ts').then((m) => m.inspect) },
  { path: ['image', 'history'], aliases: [['history']], load: () => import('./history.ts').then((m) => m.history) },
  { path: ['image', 'tag'], aliases: [['tag']], load: () => import('./tag.ts').then((m) => m.tag) },
  { path: ['image', 'rm'], aliases: ['remove', ['rmi']], load: () => import('./rmi.ts').then((m) => m.rmi) },
  { path: ['image', 'prune'], load: () => import('./prune.ts').then((m) => m.imagePrune) },
  { path: ['image', 'save'], aliases: [['save']], load: () => import('./save.ts').then((m) => m.save) },
  { path: ['image', 'load'], aliases: [['load']], load: () => import('./load.ts').then((m) => m.load) },
  { path: ['image', 'import'], aliases: [['import']], load: () => import('./import.ts').then((m) => m.importCmd) },
  // containers (issue 6)
  { path: ['container', 'run'], aliases: [['run']], load: () => import('./run.ts').then((m) => m.run) },
  { path: ['container', 'create'], aliases: [['create']], load: () => import('./run.ts').then((m) => m.create) },
  { path: ['container', 'exec'], aliases: [['exec']], load: () => import('./exec.ts').then((m) => m.exec) },
  { path: ['container', 'ls'], aliases: ['list', 'ps', ['ps']], load: () => import('./ps.ts').then((m) => m.ps) },
  { path: ['container', 'start'], aliases: [['start']], load: () => import('./lifecycle.ts').then((m) => m.start) },
  { path: ['container', 'stop'], aliases: [['stop']], load: () => import('./lifecycle.ts').then((m) => m.stop) },
  { path: ['container', 'restart'], aliases: [['restart']], load: () => import('./lifecycle.ts').then((m) => m.restart) },
  { path: ['container', 'kill'], aliases: [['kill']], load: () => import('./lifecycle.ts').then((m) => m.kill) },
  { path: ['container', 'pause'], aliases: [['pause']], load: () => import('./lifecycle.ts').then((m) => m.pause) },
  { path: ['container', 'unpause'], aliases: [['unpause']], load: () => import('./lifecycle.ts').then((m) => m.unpause) },
  { path: ['container', 'wait'], aliases: [['wait']], load: () => import('./lifecycle.ts').then((m) => m.wait) },
  { path: ['container', 'rm'], aliases: ['remove', ['rm']], load: () => import('./lifecycle.ts').then((m) => m.rm) },
  { path: ['container', 'rename'], aliases: [['rename']], load: () => import('./lifecycle.ts').then((m) => m.rename) },
  { path: ['container', 'logs'], aliases: [['logs']], load: () => import('./logs.ts').then((m) => m.logs) },
  { path: ['container', 'inspect'], load: () => import('./inspect.ts').then((m) => m.containerInspect) },
  { path: ['container', 'prune'], load: () => import('./prune.ts').then((m) => m.containerPrune) },
  { path: ['container', 'attach'], aliases: [['attach']], load: () => import('./attach.ts').then((m) => m.attach) },
  { path: ['container', 'cp'], aliases: [['cp']], load: () => import('./cp.ts').then((m) => m.cp) },
  { path: ['container', 'top'], aliases: [['top']], load: () => import('./top.ts').then((m) => m.top) },
  { path: ['container', 'stats'], aliases: [['stats']], load: () => import('./stats.ts').then((m) => m.stats) },
  { path: ['container', 'port'], aliases: [['port']], load: () => import('./port.ts').then((m) => m.port) },
  { path: ['container', 'update'], aliases: [['update']], load: () => import('./update.ts').then((m) => m.update) },
  { path: ['container', 'diff'], aliases: [['diff']], load: () => import('./diff.ts').then((m) => m.diff) },
  { path: ['container', 'export'], aliases: [['export']], load: () => import('./export.ts').then((m) => m.exportCmd) },
  { path: ['container', 'commit'], aliases: [['commit']], load: () => import('./commit.ts').then((m) => m.commit) },
  { path: ['volume', 'create'], load: () => import('./volume.ts').then((m) => m.volumeCreate) },
  { path: ['volume', 'ls'], aliases: ['list'], load: () => import('./volume.ts').then((m) => m.volumeLs) },
  { path: ['volume', 'inspect'], load: () => import('./volume.ts').then((m) => m.volumeInspect) },
  { path: ['volume', 'rm'], aliases: ['remove'], load: () => import('./volume.ts').then((m) => m.volumeRm) },
  { path: ['volume', 'prune'], load: () => import('./volume.ts').then((m) => m.volumePrune) },
  { path: ['network', 'create'], load: () => import('./network.ts').then((m) => m.networkCreate) },
  { path: ['network', 'ls'], aliases: ['list'], load: () => import('./network.ts').then((m) => m.networkLs) },
  { path: ['network', 'inspect'], load: () => import('./network.ts').then((m) => m.networkInspect) },
  { path: ['network', 'rm'], aliases: ['remove'], load: () => import('./network.ts').then((m) => m.networkRm) },
  { path: ['network', 'connect'], load: () => import('./network.ts').then((m) => m.networkConnect) },
  { path: ['network', 'disconnect'], load: () => import('./network.ts').then((m) => m.networkDisconnect) },
  { path: ['network', 'prune'], load: () => import('./network.ts').then((m) => m.networkPrune) },
  // build (issue 7: the classic /build protocol)
  { path: ['image', 'build'], aliases: [['build']], load: () => import('./build.ts').then((m) => m.build) },
  // registries (issue 5)
  { path: ['image', 'pull'], aliases: [['pull']], load: () => import('./pull.ts').then((m) => m.pull) },
  { path: ['image', 'push'], aliases: [['push']], load: () => import('./push.ts').then((m) => m.push) },
  { path: ['login'], load: () => import('./login.ts').then((m) => m.login) },
  { path: ['logout'], load: () => import('./logout.ts').then((m) => m.logout) },
  // system
  { path: ['system', 'df'], load: () => import('./df.ts').then((m) => m.systemDf) },
  { path: ['system', 'prune'], load: () => import('./prune.ts').then((m) => m.systemPrune) },
  { path: ['system', 'fsck'], load: () => import('./fsck.ts').then((m) => m.fsck) },
  { path: ['system', 'info'], aliases: [['info']], load: () => import('./info.ts').then((m) => m.info) },
  { path: ['version'], load: () => import('./version.ts').then((m) => m.version) },
  { path: ['system', 'events'], aliases: [['events']], load: () => import('./events.ts').then((m) => m.events) },
  // the registry server (issue 4)
  { path: ['registry'], load: () => import('./registry.ts').then((m) => m.registry) },
];
