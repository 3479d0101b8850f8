// Running containers (issue 6, DESIGN.md "Running containers"): OCI runtime specs with Docker's defaults,
// crun/runc under conmon (so containers, exit codes and logs outlive berthd), attach through conmon's socket,
// k8s-file logs read as docker's records. See README.md for why it is built this way.
export { runtimeStatus, fixHybridCgroups, isMemoryCgroupUsable, cgroupMode, hybridControllers, type RuntimeStatus, type CgroupMode } from './status.ts';
export {
  generateSpec, capabilities, processArgs, processEnv, normalizeCap, hardLimits, DEFAULT_CAPS, ALL_CAPS, DEFAULT_PATH,
  type RunOptions, type MountSpec, type Ulimit, type ImageConfigLike, type EtcFiles, type SpecInputs,
} from './spec.ts';
export { defaultSeccomp, type OciSeccomp } from './seccomp.ts';
export { resolveUser, type ResolvedUser } from './user.ts';
export { Runtime, type RuntimeOptions, type CreateOptions, type StartOptions, type ContainerState, type ContainerStatus } from './containers.ts';
export { readLogs, parseK8sLine, toJsonFileLine, logSize, type LogRecord, type ReadLogsOptions } from './logs.ts';
export { attach, frames, type Attachment } from './attach.ts';
export { attachRelay } from './relay.ts';
export { execInContainer, type ExecOptions, type ExecSession } from './exec.ts';
export { Volumes, type VolumeInfo } from './volumes.ts';
export { Networks, defaultBridge, subnetsOverlap, bridgeNameFor, hostRoutes, type NetworkDef, type NetworksOptions, type PortMapping, type Attached } from './network.ts';
export { changes, lowerDirsOf, type Change } from './changes.ts';
export { cgroupStats, containerPids, top, cgroupDir, type CgroupStats } from './stats.ts';
export { DetachKeys, parseDetachKeys } from './detach.ts';
export { parseRestartPolicy, restartDelay, validateRestartPolicy, type RestartPolicy, type RestartInput } from './restart.ts';
export { steps, type Steps, type TimingSink } from './timing.ts';
export { updateResources, checkUpdate, applyUpdate, type ResourceUpdate } from './update.ts';
export { mergeHealth, probeArgs, probeDelay, applyResult, runProbe, goDuration, HEALTH_DEFAULTS, type Health, type HealthConfig, type HealthResult } from './health.ts';
