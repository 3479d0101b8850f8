// The builder: Dockerfile → image. This entry exports the pure parts (parser, instruction model, variable
// expansion, build args, context rules, planning, cache keys); the executor that runs them against the image
// service, snapshots and runtime follows (see README.md in this folder).
export { parse, nodeFromLine, heredocsFromLine, parseHeredoc, chompHeredocContent } from './dockerfile/parser.ts';
export type { Node, Heredoc, Directive, ParseResult } from './dockerfile/parser.ts';
export { parseDockerfile, toInstruction, parseTrigger } from './dockerfile/convert.ts';
export { parseMount, readCsvRecord, ramInBytes } from './dockerfile/mount.ts';
export type { Mount, MountType, ShareMode } from './dockerfile/mount.ts';
export { parseFlags } from './dockerfile/flags.ts';
export { parseGoDuration } from './dockerfile/duration.ts';
export { parseError } from './dockerfile/errors.ts';
export type { DockerfileErrorDetail } from './dockerfile/errors.ts';
export * from './dockerfile/instructions.ts';
export { Lex, goQuote } from './shell/lex.ts';
export type { LexOptions, LexResult, Env } from './shell/lex.ts';
export { expandInstruction, expandHeredoc, expanderFor } from './expand.ts';
export type { Expander } from './expand.ts';
export { BuildArgs, StageScope, PROXY_ARGS, hostPlatform, platformArgs, formatPlatform } from './args.ts';
export type { Platform } from './args.ts';
export { match, compileMatch, hasWildcards } from './context/match.ts';
export { readDockerignore, loadDockerignore, ContextFilter, walkContext, clean } from './context/dockerignore.ts';
export type { IgnoreSource, ContextEntry } from './context/dockerignore.ts';
export { resolveSources, normalizeDest, planCopy, contextRelative, parentsPivot } from './context/copy.ts';
export type { SourceInfo, CopyOp, PlanCopyOptions } from './context/copy.ts';
export { digestSources } from './context/digest.ts';
export { planBuild, resolveStageRef } from './plan/stages.ts';
export type { BuildPlan, StagePlan, StageBase } from './plan/stages.ts';
export { cacheKey, normalizeInstruction, canonicalJSON } from './plan/cachekey.ts';
export type { CacheKeyInput } from './plan/cachekey.ts';
export { Builder } from './executor/builder.ts';
export type { BuildEvent, BuildOptions, BuildResult, BuilderDeps } from './executor/builder.ts';
export { BuildCache, type CacheRecord } from './executor/cache.ts';
export { ChainView } from './executor/view.ts';
export {
  applyMetadata, nopCreatedBy, copyCreatedBy, runCreatedBy, exposedPorts, normalizeWorkdir, goDuration, goQuoteList,
  healthJSON, DEFAULT_SHELL, DEFAULT_PATH, type ConfigState,
} from './executor/config.ts';
export { receiveContext, type ReceivedContext } from './context/receive.ts';
export { runStep, runArgv, runFailed, buildRuntimeOf, type BuildRuntime, type BuildContainerOptions, type RunStepOptions } from './executor/run.ts';
export { parseBuildQuery, boolValue, type BuildQuery } from './query.ts';
export { LazyContext } from './context/lazy.ts';
export { ContextSync, type SyncManifest, type ManifestFile } from './context/sync.ts';
export { prepareBuild, exportRootfs, type BuildJob } from './serve.ts';
