export { decodeImage, detectImageFormat, checkImageFile, ImageDecodeError } from './decode.js';
export type { RawImage, ImageFormat, ImageCheck } from './decode.js';
export { resizeImage, convertColorMode } from './resize.js';
export type { Interpolation, ColorMode } from './resize.js';
export { loadImage, prepareImage } from './load.js';
export type { LoadImageOptions } from './load.js';
export { MAX_IMAGE_PIXELS, checkPixelBudget } from './pixel-budget.js';
export { resolveDecoder, prepareImageWith } from './sharp-decoder.js';
export type { ImageDecoder } from './sharp-decoder.js';
