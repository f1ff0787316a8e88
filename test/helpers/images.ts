// Real PNG files made in memory (node:zlib, no dependency), for tests, the bench and the shipped
// examples: a soft gradient with a disc whose place and colour follow `seed`, so every seed gives
// a different image (and a different sha256).
import { deflateSync } from 'node:zlib';

export interface PngOptions {
  readonly width: number;
  readonly height: number;
  /** Varies the picture (and so the content hash). @default 0 */
  readonly seed?: number;
  /** Random pixels instead of a picture: incompressible, for oversized files. @default false */
  readonly noise?: boolean;
  /** zlib level; 0 stores. @default 9 */
  readonly level?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An RGB PNG of the given size. */
export function makePng(options: PngOptions): Buffer {
  const { width, height, seed = 0, noise = false, level = 9 } = options;
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  const cx = (((seed * 7919) % 97) / 97) * width;
  const cy = (((seed * 104729) % 89) / 89) * height;
  const r2 = (Math.min(width, height) / 4) ** 2;
  let state = seed * 2654435761 + 1;
  for (let y = 0; y < height; y++) {
    raw[y * stride] = noise ? 0 : 1; // filter: none for noise, Sub (left-neighbour deltas) for pictures
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + x * 3;
      if (noise) {
        for (let c = 0; c < 3; c++) raw[at + c] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
        continue;
      }
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r2;
      raw[at] = inDisc ? (seed * 53) % 256 : Math.floor((x / width) * 200) + 30;
      raw[at + 1] = inDisc ? (seed * 97) % 256 : Math.floor((y / height) * 160) + 60;
      raw[at + 2] = inDisc ? 220 : 150;
    }
    // Sub filter, right to left so each byte still sees its unfiltered left neighbour.
    if (!noise) for (let i = width * 3; i > 3; i--) raw[y * stride + i] = ((raw[y * stride + i] as number) - (raw[y * stride + i - 3] as number)) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level })),
    chunk('IEND', new Uint8Array()),
  ]);
}
