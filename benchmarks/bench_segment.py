"""emkit's Segmenter against OpenCV's grabCut on the MSRC GrabCut images, side by side.

Protocol (issue #6): the rectangle is the box of mask >= 128 padded by 5 % of the longer side
(clipped to the image); the error is the fraction of misclassified pixels over the whole image,
pixels where mask == 128 not scored. grabCut runs 5 iterations from the rectangle; when the
rectangle covers the whole image (grabCut then has no background sample and fails) it gets the
rectangle shrunk by one pixel on each side. Both run in the same process, one image after the
other, each timed on its own (the machine is shared: read the ratio, not the seconds).

    python benchmarks/bench_segment.py [--data ../shared/data/segmentation/grabcut] [--mrf ...]

Needs the ``bench`` extra (opencv-python-headless) and the ``image`` extra.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from emkit.image import Segmenter, read_image

DEFAULT = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "segmentation" / "grabcut"
)


def protocol_rect(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Box of mask >= 128 padded by 5 % of the longer side, clipped to the image."""
    ys, xs = np.nonzero(mask >= 128)
    H, W = mask.shape
    pad = round(0.05 * max(H, W))
    x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
    x1, y1 = min(W, xs.max() + 1 + pad), min(H, ys.max() + 1 + pad)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def error_rate(pred: np.ndarray, mask: np.ndarray) -> float:
    """Misclassified fraction of the labelled pixels (mask != 128)."""
    scored = mask != 128
    return float(np.mean(pred[scored] != (mask[scored] > 128)))


def load(data: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    image = read_image(data / "images" / name)
    with Image.open(data / "masks" / (Path(name).stem + ".png")) as m:
        mask = np.asarray(m.convert("L"))
    return image, mask


def run_grabcut(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    import cv2

    H, W = image.shape[:2]
    if rect == (0, 0, W, H):
        rect = (1, 1, W - 2, H - 2)
    bgr = np.ascontiguousarray((image[:, :, ::-1] * 255).round().astype(np.uint8))
    labels = np.zeros((H, W), np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(bgr, labels, rect, bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--mrf", default="graphcut", choices=["graphcut", "meanfield", "none"])
    parser.add_argument("--no-opencv", action="store_true", help="Run emkit only.")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1).")
    parser.add_argument("--limit", type=int, default=None, help="First N images only.")
    args = parser.parse_args()
    if not (args.data / "images").is_dir():
        raise SystemExit(f"no data at {args.data}")
    if not args.no_opencv:
        import cv2

        cv2.setNumThreads(args.threads)
    segmenter = Segmenter(mrf=None if args.mrf == "none" else args.mrf)
    names = sorted(p.name for p in (args.data / "images").iterdir())[: args.limit]
    rows = []
    print(f"{'image':16s} {'size':>9s} {'emkit err':>9s} {'time':>7s} {'cv2 err':>8s} {'time':>7s}")
    for name in names:
        image, mask = load(args.data, name)
        rect = protocol_rect(mask)
        t0 = time.perf_counter()
        ours = segmenter.segment(image, rect=rect).mask
        t_ours = time.perf_counter() - t0
        e_ours = error_rate(ours, mask)
        e_cv = t_cv = float("nan")
        if not args.no_opencv:
            t0 = time.perf_counter()
            theirs = run_grabcut(image, rect)
            t_cv = time.perf_counter() - t0
            e_cv = error_rate(theirs, mask)
        rows.append((e_ours, t_ours, e_cv, t_cv))
        size = f"{image.shape[1]}x{image.shape[0]}"
        print(
            f"{name:16s} {size:>9s} {100 * e_ours:8.2f}% {t_ours:6.3f}s "
            f"{100 * e_cv:7.2f}% {t_cv:6.3f}s",
            flush=True,
        )
    r = np.asarray(rows)
    print(f"\n{len(rows)} images, mrf={args.mrf}")
    print(f"emkit   mean error {100 * r[:, 0].mean():.2f}%  mean time {r[:, 1].mean():.3f}s")
    if not args.no_opencv:
        print(f"grabCut mean error {100 * r[:, 2].mean():.2f}%  mean time {r[:, 3].mean():.3f}s")
        print(
            f"time ratio emkit/grabCut: total {r[:, 1].sum() / r[:, 3].sum():.3f}, "
            f"median per image {np.median(r[:, 1] / r[:, 3]):.3f}"
        )


if __name__ == "__main__":
    main()
