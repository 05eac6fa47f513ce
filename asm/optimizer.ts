// Optimizer updates in place, in f64x2 lanes: each value widened to f64, the update computed in
// f64 and rounded once to f32 when stored, as the reference's JavaScript (src/backend/reference/
// optimizers.ts) computes it, so the results are the same bit for bit.

// @ts-ignore: decorator
@inline
function lo(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function hi(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

// @ts-ignore: decorator
@inline
function narrow(a: v128, b: v128): v128 {
  const x = f32x4.demote_f64x2_zero(a), y = f32x4.demote_f64x2_zero(b);
  return i32x4.shuffle(x, y, 0, 1, 4, 5);
}

/** SGD without momentum on [i0, i1): w −= lr·g, lr the f64 at `params` (job arguments are int32). */
export function sgdPlain(w: usize, g: usize, i0: i32, i1: i32, params: usize): void {
  const lr = load<f64>(params);
  const l = f64x2.splat(lr);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o), gv = v128.load(g + o);
    v128.store(w + o, narrow(f64x2.sub(lo(wv), f64x2.mul(l, lo(gv))), f64x2.sub(hi(wv), f64x2.mul(l, hi(gv)))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, <f32>(<f64>load<f32>(w + o) - lr * <f64>load<f32>(g + o)));
  }
}

/**
 * SGD with momentum on [i0, i1): v = m·vel − lr·g, vel = v, w += v (Nesterov: w += m·v − lr·g);
 * lr and m the f64s at `params`.
 */
export function sgdMomentum(w: usize, g: usize, vel: usize, i0: i32, i1: i32, params: usize, nesterov: bool): void {
  const lr = load<f64>(params), momentum = load<f64>(params, 8);
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const gi = <f64>load<f32>(g + o);
    const v = momentum * <f64>load<f32>(vel + o) - lr * gi;
    store<f32>(vel + o, <f32>v);
    store<f32>(w + o, <f32>(<f64>load<f32>(w + o) + (nesterov ? momentum * v - lr * gi : v)));
  }
}
