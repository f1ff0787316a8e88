// Turning a planned request (images as references) into the exact JSON body to send: local files
// are read, checked against the hash the plan recorded, and inlined as raw base64.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreateTaskBody } from '../api/schemas.js';
import { InputError } from '../errors.js';
import type { ImageRef, JobRequest } from '../plan/schema.js';

export type ReadFile = (path: string) => Promise<Buffer>;

/** Builds bodies, keeping the base64 of the last few images (a matrix reuses each image many times). */
export class BodyBuilder {
  readonly #cache = new Map<string, string>();
  readonly #manifestDir: string;
  readonly #read: ReadFile;

  constructor(manifestDir: string, read: ReadFile = readFile) {
    this.#manifestDir = manifestDir;
    this.#read = read;
  }

  async build(request: JobRequest, externalTaskId: string): Promise<CreateTaskBody> {
    const { image, image_tail, static_mask, dynamic_masks, ...scalars } = request;
    const body: CreateTaskBody = { ...scalars, external_task_id: externalTaskId };
    // An end-frame-only job sends `image_tail` alone.
    if (image) body.image = await this.#inline(image);
    if (image_tail) body.image_tail = await this.#inline(image_tail);
    if (static_mask) body.static_mask = await this.#inline(static_mask);
    if (dynamic_masks) {
      body.dynamic_masks = await Promise.all(
        dynamic_masks.map(async (m) => ({ mask: await this.#inline(m.mask), trajectories: m.trajectories })),
      );
    }
    return body;
  }

  async #inline(ref: ImageRef): Promise<string> {
    if (ref.kind === 'url') return ref.url;
    const cached = this.#cache.get(ref.sha256);
    if (cached) return cached;
    let bytes: Buffer;
    try {
      bytes = await this.#read(join(this.#manifestDir, ref.path));
    } catch (cause) {
      throw new InputError('input_missing', `Cannot read image ${ref.path}: ${(cause as Error).message}. It was there when the plan was made; restore it or rerun to re-plan.`, { cause });
    }
    // The job id stands for these exact bytes: never send an image that changed since planning.
    if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) {
      throw new InputError('input_invalid', `Image ${ref.path} changed since the plan was made; rerun the command so the plan (and the job ids) match the new content.`);
    }
    const encoded = bytes.toString('base64');
    if (this.#cache.size >= 32) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(ref.sha256, encoded);
    return encoded;
  }
}
