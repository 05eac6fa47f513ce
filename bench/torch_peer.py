#!/usr/bin/python3
# PyTorch CPU peer of `npm run bench` (bench/native.ts): the seed model in PyTorch, driven over
# stdin/stdout one JSON line per command, so that the bench can alternate PyTorch and tscnn
# calls round by round in one run. Run with Debian's python3-torch (/usr/bin/python3).
#
# Commands: {"cmd": "init", "size", "batch", "threads", "weights": file, "onnx": file}
#   builds the model (channels-last), loads tscnn's weights (float32, getWeights() order, Keras
#   layouts), exports an ONNX file (NCHW input) and answers its version and the inference output;
# {"cmd": "train"} one SGD step (forward, backward, update) on the fixed batch;
# {"cmd": "infer"} one inference of the batch; {"cmd": "layers", "runs"} per-module inference ms.
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class Nhwc(nn.Module):
    """Keras flattens NHWC: permuting to channels-last before Flatten lets tscnn's Dense weights apply."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1)


def build(size):
    """The seed model (examples/lib/user-model.ts) for size×size×3 images."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16, eps=1e-3, momentum=0.01), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.5), Nhwc(), nn.Flatten(),
        nn.Linear((size // 16) * (size // 16) * 128, 150), nn.ReLU(), nn.Dropout(0.5),
        nn.BatchNorm1d(150, eps=1e-3, momentum=0.01), nn.Linear(150, 1), nn.Sigmoid(),
    )


def load_weights(model, path):
    raw = np.fromfile(path, dtype='<f4')
    at = 0

    def take(shape):
        nonlocal at
        n = int(np.prod(shape))
        out = raw[at:at + n].reshape(shape)
        at += n
        return torch.from_numpy(out.copy())

    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Conv2d):
                kh, kw = m.kernel_size
                m.weight.copy_(take((kh, kw, m.in_channels, m.out_channels)).permute(3, 2, 0, 1))
                m.bias.copy_(take((m.out_channels,)))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(take((m.in_features, m.out_features)).t())
                m.bias.copy_(take((m.out_features,)))
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                c = m.num_features
                m.weight.copy_(take((c,)))
                m.bias.copy_(take((c,)))
                m.running_mean.copy_(take((c,)))
                m.running_var.copy_(take((c,)))
    if at != raw.size:
        raise ValueError(f'torch_peer: weights file has {raw.size} floats, the model took {at}')


def main():
    state = {}
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg['cmd']
        if cmd == 'init':
            torch.set_num_threads(msg['threads'])
            torch.manual_seed(1)
            size, batch = msg['size'], msg['batch']
            model = build(size)
            load_weights(model, msg['weights'])
            x = torch.from_numpy(np.fromfile(msg['input'], dtype='<f4').reshape(batch, size, size, 3).copy()).permute(0, 3, 1, 2)
            y = torch.from_numpy(np.fromfile(msg['labels'], dtype='<f4').reshape(batch, 1).copy())
            model.eval()
            torch.onnx.export(model, x.contiguous(), msg['onnx'], input_names=['input'], output_names=['output'],
                              dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}, opset_version=13)
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
            with torch.no_grad():
                out = model(x)
            state.update(model=model, x=x, y=y, opt=torch.optim.SGD(model.parameters(), lr=1e-4), loss=nn.BCELoss())
            reply = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'output': out.flatten().tolist()}
        elif cmd == 'train':
            m = state['model']
            m.train()
            t0 = time.perf_counter()
            state['opt'].zero_grad()
            loss = state['loss'](m(state['x']), state['y'])
            loss.backward()
            state['opt'].step()
            reply = {'ms': (time.perf_counter() - t0) * 1e3}
        elif cmd == 'infer':
            m = state['model']
            m.eval()
            t0 = time.perf_counter()
            with torch.no_grad():
                m(state['x'])
            reply = {'ms': (time.perf_counter() - t0) * 1e3}
        elif cmd == 'layers':
            m = state['model']
            m.eval()
            times = [[] for _ in m]
            with torch.no_grad():
                for _ in range(msg['runs']):
                    h = state['x']
                    for i, layer in enumerate(m):
                        t0 = time.perf_counter()
                        h = layer(h)
                        times[i].append((time.perf_counter() - t0) * 1e3)
            reply = {'layers': [{'module': type(layer).__name__, 'ms': float(np.median(t))} for layer, t in zip(m, times)]}
        else:
            reply = {'error': f'unknown command {cmd!r}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
