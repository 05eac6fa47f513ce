// The optimizer updates of the specification, in place, in the Keras 3 forms (KERAS-SEMANTICS.md).

/** SGD: plain w −= lr·g; momentum v = m·v − lr·g, w += v; Nesterov w += m·v − lr·g. */
export function sgdUpdate(value: Float32Array, grad: Float32Array, velocity: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void {
  for (let i = 0; i < value.length; i++) {
    if (!velocity || momentum === 0) {
      value[i] -= lr * grad[i];
      continue;
    }
    const v = momentum * velocity[i] - lr * grad[i];
    velocity[i] = v;
    value[i] += nesterov ? momentum * v - lr * grad[i] : v;
  }
}

/** Adam, in place on value, m and v; `step` counts from 1. */
export function adamUpdate(
  value: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number, epsilon: number, step: number,
): void {
  // Keras 3: alpha = lr·sqrt(1−β2^t)/(1−β1^t); w −= alpha·m/(sqrt(v)+ε).
  const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
  for (let i = 0; i < value.length; i++) {
    const g = grad[i];
    m[i] += (g - m[i]) * (1 - beta1);
    v[i] += (g * g - v[i]) * (1 - beta2);
    value[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + epsilon);
  }
}

/** RMSprop, in place on value and the running mean square `ms`. */
export function rmspropUpdate(value: Float32Array, grad: Float32Array, ms: Float32Array, lr: number, rho: number, epsilon: number): void {
  // Keras 3 (keras/src/optimizers/rmsprop.py): ε goes inside the square root.
  for (let i = 0; i < value.length; i++) {
    const g = grad[i];
    ms[i] = rho * ms[i] + (1 - rho) * g * g;
    value[i] -= (lr * g) / Math.sqrt(ms[i] + epsilon);
  }
}
