// Shared end-to-end test helpers: a real berthd on a temp dir, a busybox rootfs tarball, the docker CLI.
export { startDaemon, ensureBerthd, BERTHD, REPO, type StartedDaemon, type StartOptions } from './daemon.ts';
export { busyboxRootfsTar, importBusybox, haveBusybox, BUSYBOX, type RootfsOptions } from './busybox.ts';
export { docker, run, haveDocker, DOCKER, type RunResult, type RunOptions } from './docker.ts';
export { waitFor } from './wait.ts';
export { containerSuite, containerSkip, type ContainerSuite } from './suite.ts';
export { Terminal, haveTmux } from './tmux.ts';
