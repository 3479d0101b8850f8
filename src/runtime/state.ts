// The records and options of the container lifecycle (containers.ts): what berth keeps per container in
// state.json, and what a caller passes to create one.
import type { Digest } from '../digest/index.ts';
import type { Mount } from '../snapshot/index.ts';
import type { RunOptions } from './spec.ts';
import type { DataRoot } from '../layout/index.ts';
import type { TimingSink } from './timing.ts';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'dead';

export interface ContainerState {
  id: string;
  status: ContainerStatus;
  runtime: 'crun' | 'runc';
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  /** The image snapshots (chainIDs, bottom-first) the rootfs stacks: GC roots while the container exists. */
  chain: Digest[];
  /** The rootfs mounts as data (Snapshotter.mounts), replayed when the rootfs is not mounted (after a reboot). */
  mounts: Mount[];
  stopSignal?: string;
  logSizeMax?: number;
  /**
   * Created without its runtime container (CreateOptions.deferLaunch): start() launches conmon, once the network
   * namespace to join exists (docker's --network container:NAME is resolved at start, not at create).
   */
  deferred?: boolean;
  /** A prepared network namespace the container joined (`--network none`, netns.ts): dropped with the container. */
  netns?: string;
}

export interface RuntimeOptions {
  dataRoot: DataRoot;
  /** Runtime state (--root), conmon sockets and the compiled relay; a tmpfs. Default /run/berth. */
  stateDir?: string;
  /** Default OCI runtime; default: runtimeStatus().default. */
  runtime?: 'crun' | 'runc';
  /** Receives one line of step timings per create/start/exit/delete (berthd's debug log). */
  timings?: TimingSink;
}

export interface CreateOptions extends RunOptions {
  /** The overlay mount of the image (Snapshotter.mounts with this container's upper/work). */
  rootfsMounts: Mount[];
  chain: Digest[];
  stdinOnce?: boolean;
  runtime?: 'crun' | 'runc';
  /** /etc/resolv.conf content; default: the host's. */
  resolvConf?: string;
  /** Extra /etc/hosts lines. */
  extraHosts?: string[];
  /** docker's --log-opt max-size in bytes (conmon truncates the log when it is reached). */
  logSizeMax?: number;
  /** Prepare the bundle only: conmon runs at start(), given the namespace to join (see ContainerState.deferred). */
  deferLaunch?: boolean;
}

/** What start() may be told: the network namespace to join (a --network container: container's, its pid's). */
export interface StartOptions {
  netns?: string;
}
