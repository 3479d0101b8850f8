// Every `berth` command, registered from this one list (one file per verb). To add a command: write
// commands/<verb>.ts exporting a CommandSpec (see ../spec.ts) and add it here; a new management group
// (`container`, `volume`, …) gets a line in GROUPS.
import type { CommandSpec, GroupSpec } from '../spec.ts';
import { images } from './images.ts';
import { imageInspect, inspect, containerInspect } from './inspect.ts';
import { history } from './history.ts';
import { tag } from './tag.ts';
import { rmi } from './rmi.ts';
import { imagePrune, systemPrune, containerPrune } from './prune.ts';
import { save } from './save.ts';
import { load } from './load.ts';
import { importCmd } from './import.ts';
import { systemDf } from './df.ts';
import { fsck } from './fsck.ts';
import { info } from './info.ts';
import { version } from './version.ts';
import { registry } from './registry.ts';
import { events } from './events.ts';
import { build } from './build.ts';
import { ps } from './ps.ts';
import { start, stop, restart, kill, pause, unpause, wait, rm, rename } from './lifecycle.ts';
import { logs } from './logs.ts';
import { run, create } from './run.ts';
import { exec } from './exec.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { attach } from './attach.ts';
import { cp } from './cp.ts';
import { top } from './top.ts';
import { stats } from './stats.ts';
import { port } from './port.ts';
import { update } from './update.ts';
import { diff } from './diff.ts';
import { exportCmd } from './export.ts';
import { commit } from './commit.ts';
import { volumeCommands } from './volume.ts';
import { networkCommands } from './network.ts';

export const GROUPS: GroupSpec[] = [
  { name: 'container', short: 'Manage containers' },
  { name: 'image', short: 'Manage images' },
  { name: 'system', short: 'Manage berth' },
  { name: 'volume', short: 'Manage volumes' },
  { name: 'network', short: 'Manage networks' },
];

export const COMMANDS: CommandSpec[] = [
  // images (issue 3)
  images, imageInspect, inspect, history, tag, rmi, imagePrune, save, load, importCmd,
  // containers (issue 6)
  run, create, exec, ps, start, stop, restart, kill, pause, unpause, wait, rm, rename, logs, containerInspect, containerPrune,
  attach, cp, top, stats, port, update, diff, exportCmd, commit, ...volumeCommands, ...networkCommands,
  // build (issue 7: the classic /build protocol)
  build,
  // registries (issue 5)
  pull, push, login, logout,
  // system
  systemDf, systemPrune, fsck, info, version, events,
  // the registry server (issue 4)
  registry,
];
