// The classic builder's intermediate images: every step's result is an image of its own (no names), whose
// parent is the previous step's image, as moby's builder commits one per step. That is what makes the
// " ---> <id>" a build prints runnable (`docker run <id>`), what `docker history` of a built image shows an
// ID on every step for, and what `docker images -a` lists as <none>:<none> (hidden by `docker images`; removed
// with the tagged image by `docker rmi` when nothing else needs them).
import type { ImageService } from '../../images/index.ts';
import { MT } from '../../images/index.ts';
import type { Digest } from '../../digest/index.ts';
import type { StageState } from './stage.ts';

/** The OCI manifest of a build state: its config and layers. */
export function manifestOf(s: StageState): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: s.configDigest, size: s.configSize },
    layers: s.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
}

/**
 * Records `s` as an unnamed image whose parent is `parent` (the image the step ran on), unless it is one
 * already (a cached step's). `keep` holds the new manifest blob under the build's lease until then.
 */
export async function recordIntermediate(images: ImageService, s: StageState, parent: Digest | undefined, keep: (d: Digest[]) => Promise<void>): Promise<void> {
  if (!s.configDigest || images.hasImage(s.configDigest)) return;
  const m = await images.content.put(manifestOf(s));
  await keep([m.digest]);
  const desc = { mediaType: MT.ociManifest, digest: m.digest, size: m.size };
  await images.addImage({
    config: s.configDigest, target: desc, manifest: desc, layers: s.layers, names: [],
    ...(parent && images.hasImage(parent) ? { parent } : {}),
    created: s.image.created ?? '', labels: (s.image.config?.Labels ?? {}) as Record<string, string>,
  });
}
