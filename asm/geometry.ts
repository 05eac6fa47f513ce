// Constants shared with TypeScript: word offsets of the geometry blocks the kernels read their
// shapes and operand pointers from (i32 words at g, written by src/backend/wasm/), and the
// activation codes. asm/build.mjs reads the `export const` lines of this file and generates the
// same values for TypeScript (src/backend/wasm/engine-exports.generated.ts): written here only.

// Convolutions (asm/im2col.ts, direct.ts, winograd2.ts, winograd4.ts).
export const G_H: i32 = 0;
export const G_W: i32 = 1;
export const G_C: i32 = 2;
export const G_OH: i32 = 3;
export const G_OW: i32 = 4;
export const G_F: i32 = 5;
export const G_KH: i32 = 6;
export const G_KW: i32 = 7;
export const G_SH: i32 = 8;
export const G_SW: i32 = 9;
export const G_DH: i32 = 10;
export const G_DW: i32 = 11;
export const G_PT: i32 = 12;
export const G_PL: i32 = 13;
export const G_X: i32 = 14;
export const G_WT: i32 = 15;
export const G_OUT: i32 = 16;
export const G_BIAS: i32 = 17;
export const G_RELU: i32 = 18;
export const G_DY: i32 = 19;
export const G_ROWS: i32 = 20;
export const G_POINTWISE: i32 = 21;
// The next tile a thread takes, counted by atomic adds (asm/winograd4.ts: tiles split as threads come free).
export const G_NEXT: i32 = 31;
export const G_WORDS: i32 = 32;

// Max pooling (asm/pool.ts).
export const P_H: i32 = 0;
export const P_W: i32 = 1;
export const P_C: i32 = 2;
export const P_OH: i32 = 3;
export const P_OW: i32 = 4;
export const P_KH: i32 = 5;
export const P_KW: i32 = 6;
export const P_SH: i32 = 7;
export const P_SW: i32 = 8;
export const P_PT: i32 = 9;
export const P_PL: i32 = 10;
export const P_X: i32 = 11;
export const P_Y: i32 = 12;
export const P_ARGMAX: i32 = 13;
export const P_WORDS: i32 = 16;

// Activation codes of activationForward and activationBackward (asm/elementwise.ts).
export const ACT_SIGMOID: i32 = 0;
export const ACT_TANH: i32 = 1;

// @ts-ignore: decorator
@inline
export function gi(g: usize, i: i32): i32 {
  return load<i32>(g + (<usize>i << 2));
}
