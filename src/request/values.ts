// The provider's fixed vocabulary that the field registry (fields.ts) and the wire schemas
// (api/schemas.ts) share: defaults, value lists and the limits that belong to the API itself, not
// to a model. Limits that differ by provider or model (prompt lengths) are in the model table.
import { z } from 'zod';

export const SOUNDS = ['on', 'off'] as const;

/**
 * API defaults for fields a request leaves out (from the OpenAPI document). Which models, modes
 * and durations exist is data (src/data/models.yaml), so these are plain strings, not enums.
 */
export const API_DEFAULTS: { readonly model_name: string; readonly mode: string; readonly duration: string } = {
  model_name: 'kling-v1',
  mode: 'std',
  duration: '5',
};

/** Input limits the provider documents for every model (masks, images, external ids, Kling's 2026 controls). */
export const LIMITS = {
  dynamicMasksMax: 6,
  trajectoryMin: 2,
  trajectoryMax: 77,
  imageMaxBytes: 10 * 1024 * 1024,
  imageMinSide: 300,
  aspectMax: 2.5,
  externalTaskIdMax: 32,
  cameraAxisMax: 10,
  shotsMax: 6,
  shotPromptMax: 512,
  elementsMax: 3,
  voicesMax: 2,
} as const;

export const trajectoryPointSchema = z.strictObject({ x: z.number().int(), y: z.number().int() });

/** Kling's camera moves; `simple` takes a `config` with exactly one non-zero axis. */
export const CAMERA_TYPES = ['simple', 'down_back', 'forward_up', 'right_turn_forward', 'left_turn_forward'] as const;
export const CAMERA_AXES = ['horizontal', 'vertical', 'pan', 'tilt', 'roll', 'zoom'] as const;
export const SHOT_TYPES = ['customize', 'intelligence'] as const;
