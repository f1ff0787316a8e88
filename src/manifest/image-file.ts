// The API's limits on an input image, checked on its bytes before anything is paid for:
// JPEG or PNG by content (not by name), at most 10 MB, both sides >= 300 px, aspect within 2.5:1.
import { imageSize } from 'image-size';
import { LIMITS } from '../api/schemas.js';

export interface ImageFacts {
  readonly format: 'jpeg' | 'png';
  readonly width: number;
  readonly height: number;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** A problem with a file of `size` bytes, before reading it; undefined when the size is fine. */
export function sizeProblem(size: number): string | undefined {
  return size > LIMITS.imageMaxBytes
    ? `is ${formatBytes(size)}; the API accepts at most ${formatBytes(LIMITS.imageMaxBytes)}. Downscale or recompress it.`
    : undefined;
}

/** Whether a PNG's chunks run, intact, up to its IEND chunk (a cut file has a header but no end). */
function pngIsComplete(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = PNG_MAGIC.length; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IEND') return true;
    at += 12 + length; // length, type, data, CRC
  }
  return false;
}

/** Whether a JPEG has its end-of-image marker: entropy-coded data never holds FF D9, so any one is the end. */
function jpegIsComplete(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(Buffer.from([0xff, 0xd9])) >= JPEG_MAGIC.length;
}

/** The image's format and size, or a sentence (completing "`<file>` …") saying why the API would refuse it. */
export function inspectImage(bytes: Uint8Array): ImageFacts | string {
  const tooBig = sizeProblem(bytes.length);
  if (tooBig) return tooBig;
  const format = startsWith(bytes, PNG_MAGIC) ? 'png' : startsWith(bytes, JPEG_MAGIC) ? 'jpeg' : undefined;
  if (!format) return 'is not a JPEG or PNG image (judged by its content, not its name). Convert it to JPEG or PNG.';
  let width: number;
  let height: number;
  try {
    ({ width, height } = imageSize(bytes));
  } catch {
    return `looks like a ${format.toUpperCase()} but its size cannot be read; the file may be truncated or corrupt.`;
  }
  if (!(format === 'png' ? pngIsComplete(bytes) : jpegIsComplete(bytes))) {
    const end = format === 'png' ? 'its IEND chunk' : 'its end-of-image marker';
    return `is a ${format.toUpperCase()} cut short: the file ends before ${end} (a partial download or copy?). Copy or export it again.`;
  }
  const { imageMinSide: minSide, aspectMax } = LIMITS;
  if (width < minSide || height < minSide) {
    return `is ${width}×${height} px; both sides must be at least ${minSide} px. Use a larger image.`;
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > aspectMax) {
    return `is ${width}×${height} px (${ratio.toFixed(2)}:1); the aspect ratio must be between 1:${aspectMax} and ${aspectMax}:1. Crop it.`;
  }
  return { format, width, height };
}
