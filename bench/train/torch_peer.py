#!/usr/bin/python3
"""PyTorch (CPU) peer of bench/train/throughput.bench.ts.

Measures images/second of a training step, inference and per-example loss for the same two
architectures as the tfjs benchmark (SmallCNN and ResNet-8 with batch norm), at a fixed thread count,
and prints one JSON object on stdout. It installs nothing: on Debian, PyTorch comes from the
python3-torch package. When torch cannot be imported it prints {"skipped": "..."} and exits with 3,
which the TypeScript benchmark reports as a skip.

The models mirror src/train/models/{smallCnn,resnet}.ts: the same layers, widths, "same" padding,
bias-free convolutions before batch norm, PyTorch's batch-norm defaults, and the x/255 rescaling the
tfjs models start with. Initial weights differ (PyTorch's own initialisers); throughput does not
depend on them.
"""

import argparse
import json
import statistics
import sys
import time

EXIT_NO_TORCH = 3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--batch", type=int, default=128, help="images per batch (default 128)")
    p.add_argument("--warmup", type=int, default=2, help="untimed batches per row first (default 2)")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions; the median is reported (default 3)")
    p.add_argument("--steps", type=int, default=3, help="batches per repetition (default 3)")
    p.add_argument("--models", default="small-cnn,resnet8", help="comma-separated architectures")
    p.add_argument("--shapes", default="28x28x1,32x32x3", help="comma-separated HxWxC input shapes")
    p.add_argument("--classes", type=int, default=10, help="number of classes (default 10)")
    p.add_argument("--memory-steps", type=int, default=0,
                   help="instead of timing: train this many steps of the first model and shape, and report peak RSS")
    return p.parse_args()


def build_models(torch):
    nn = torch.nn

    class Rescale(nn.Module):
        # The tfjs models take 0-255 pixels and scale them in their first layer; do the same work here.
        def forward(self, x):
            return x * (1.0 / 255.0)

    # ReLUs run in place, as in torchvision's models: the same maths without a copy of each activation.
    def small_cnn(shape, classes):
        h, w, c = shape
        return nn.Sequential(
            Rescale(),
            nn.Conv2d(c, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (h // 4) * (w // 4), 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, classes),
        )

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Identity()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = torch.relu_(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu_(out + self.shortcut(x))

    def resnet8(shape, classes):
        _, _, c = shape
        return nn.Sequential(
            Rescale(),
            nn.Conv2d(c, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            BasicBlock(16, 16, 1),
            BasicBlock(16, 32, 2),
            BasicBlock(32, 64, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(64, classes),
        )

    class PreActBlock(nn.Module):
        # src/train/models/wideResNet.ts: BN-ReLU-conv-BN-ReLU-conv; the identity shortcut takes the raw
        # input, a projection shortcut the pre-activated one.
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(cin)
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.projection = None
            if stride != 1 or cin != cout:
                self.projection = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

        def forward(self, x):
            pre = torch.relu(self.bn1(x))
            out = self.conv2(torch.relu(self.bn2(self.conv1(pre))))
            return out + (x if self.projection is None else self.projection(pre))

    def wide_resnet(depth, widen):
        def build(shape, classes):
            _, _, c = shape
            per_group = (depth - 4) // 6
            layers = [Rescale(), nn.Conv2d(c, 16, 3, padding=1, bias=False)]
            channels = 16
            for g, (width, stride) in enumerate(zip((16 * widen, 32 * widen, 64 * widen), (1, 2, 2))):
                for b in range(per_group):
                    layers.append(PreActBlock(channels, width, stride if b == 0 else 1))
                    channels = width
            layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                       nn.Linear(channels, classes)]
            return nn.Sequential(*layers)
        return build

    return {"small-cnn": small_cnn, "resnet8": resnet8, "wrn-16-1": wide_resnet(16, 1)}


def measure(run, batch, warmup, reps, steps):
    for _ in range(warmup):
        run()
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            run()
        rates.append(steps * batch / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as err:
        print(json.dumps({"skipped": f"PyTorch is not installed for {sys.executable} ({err}); on Debian: apt-get install python3-torch"}))
        return EXIT_NO_TORCH

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    builders = build_models(torch)
    if args.memory_steps > 0:
        print(json.dumps(memory_run(torch, F, builders, args)))
        return 0
    rows = []
    for name in args.models.split(","):
        for shape_text in args.shapes.split(","):
            shape = tuple(int(v) for v in shape_text.lower().split("x"))
            h, w, c = shape
            input_name = f"{h}x{w}x{c}"
            x = torch.rand(args.batch, c, h, w) * 255.0
            y = torch.randint(0, args.classes, (args.batch,))
            try:
                model = builders[name](shape, args.classes)
            except KeyError:
                rows.append({"model": name, "input": input_name, "step": "all", "error": f"unknown model {name}"})
                continue
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

            def train():
                model.train()
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()

            def inference():
                model.eval()
                with torch.no_grad():
                    model(x)

            def per_example_loss():
                model.eval()
                with torch.no_grad():
                    F.cross_entropy(model(x), y, reduction="none")

            for step, run in (("train", train), ("inference", inference), ("loss", per_example_loss)):
                row = {"model": name, "input": input_name, "step": step}
                try:
                    median, rates = measure(run, args.batch, args.warmup, args.reps, args.steps)
                    row.update(imagesPerSecond=median, repetitions=rates)
                except Exception as err:  # a failing row is recorded, the others still run
                    row["error"] = f"{type(err).__name__}: {err}"
                rows.append(row)

    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))
    return 0


def memory_run(torch, F, builders, args):
    """Peak resident memory of training: after the model and one batch exist, and after N steps."""
    import resource

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

    name = args.models.split(",")[0]
    h, w, c = (int(v) for v in args.shapes.split(",")[0].lower().split("x"))
    model = builders[name]((h, w, c), args.classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(args.batch, c, h, w) * 255.0
    y = torch.randint(0, args.classes, (args.batch,))
    before = peak_mb()
    model.train()
    for _ in range(args.memory_steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {"torch": torch.__version__, "model": name, "input": f"{h}x{w}x{c}", "steps": args.memory_steps,
            "peakBeforeMb": before, "peakAfterMb": peak_mb()}


if __name__ == "__main__":
    sys.exit(main())
