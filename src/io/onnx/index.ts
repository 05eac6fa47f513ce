export { exportOnnx, toOnnx, ONNX_OPSET } from './export.js';
export { ONNX_LAYERS } from './layers.js';
