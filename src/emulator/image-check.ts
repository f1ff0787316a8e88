// The provider's checks on one image field: a public http(s) URL (not fetched: the emulator is
// offline) or raw base64 of a JPG/PNG within the documented size, side and aspect limits.
import { imageSize } from 'image-size';
import { LIMITS } from '../api/schemas.js';

export type ImageCheck =
  | { readonly ok: true; readonly size?: { readonly width: number; readonly height: number } }
  | { readonly ok: false; readonly problem: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Checks one image value; `problem` completes a sentence starting with the field name. */
export function checkImage(value: string): ImageCheck {
  if (/^https?:\/\//i.test(value)) {
    return URL.canParse(value) ? { ok: true } : { ok: false, problem: 'is not a valid URL' };
  }
  if (value.startsWith('data:')) return { ok: false, problem: 'must be raw base64 without a `data:` prefix' };
  if (!BASE64.test(value)) return { ok: false, problem: 'is neither an http(s) URL nor base64' };
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > LIMITS.imageMaxBytes) {
    return { ok: false, problem: `is ${(bytes.length / 1024 / 1024).toFixed(1)} MB; the limit is ${LIMITS.imageMaxBytes / 1024 / 1024} MB` };
  }
  let size: { width: number; height: number; type?: string | undefined };
  try {
    size = imageSize(bytes);
  } catch {
    return { ok: false, problem: 'is not a JPG or PNG image' };
  }
  if (size.type !== 'jpg' && size.type !== 'png') return { ok: false, problem: `must be a JPG or PNG image, got ${size.type ?? 'an unknown format'}` };
  const { width, height } = size;
  if (Math.min(width, height) < LIMITS.imageMinSide) {
    return { ok: false, problem: `is ${width}x${height} px; each side must be at least ${LIMITS.imageMinSide} px` };
  }
  if (Math.max(width / height, height / width) > LIMITS.aspectMax) {
    return { ok: false, problem: `is ${width}x${height} px; the aspect ratio must be between 1:${LIMITS.aspectMax} and ${LIMITS.aspectMax}:1` };
  }
  return { ok: true, size: { width, height } };
}
