"""Build the demo model shipped in assets/demo/: a small CNN that reads handwritten digits.

Trained here, in about ten seconds on a CPU, on the UCI "Optical Recognition of Handwritten
Digits" set that scikit-learn ships inside its wheel (1,797 8×8 images, CC BY 4.0), upsampled to
16×16. Exported to ONNX opset 17 with a dynamic batch dimension. Needs the [export] extra and
scikit-learn:  pip install torch==2.13.0 scikit-learn onnxscript && python scripts/make_demo_model.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "assets" / "demo"
SIZE = 16


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(image))


def load_images() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    images = nn.functional.interpolate(images, size=(SIZE, SIZE), mode="bilinear")
    return images.numpy(), digits.target.astype(np.int64)


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = load_images()
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    train, calib, test = slice(0, 1400), slice(1400, 1500), slice(1500, None)

    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = torch.tensor(x[train]), torch.tensor(y[train])
    for _epoch in range(15):
        for start in range(0, len(xt), 64):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(
                model(xt[start : start + 64]), yt[start : start + 64]
            )
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(torch.tensor(x[test])).argmax(1).numpy() == y[test]).mean()
    print(f"test accuracy: {accuracy:.3f} on {len(y[test])} held-out digits")

    OUT.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, SIZE, SIZE),),
        str(OUT / "digits_cnn.onnx"),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    np.savez_compressed(
        OUT / "digits_samples.npz",
        calibration=x[calib],
        evaluation=x[test][:100],
        evaluation_labels=y[test][:100],
    )
    print(f"wrote {OUT / 'digits_cnn.onnx'} and digits_samples.npz")


if __name__ == "__main__":
    main()
