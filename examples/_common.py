"""What every example shares: saving its figure and its command line (--fast, --out)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def save_figure(fig: Any, out: str, name: str, dpi: int = 90) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    Path(out).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(out) / name, dpi=dpi)
    plt.close(fig)


def cli(main: Callable[[bool, str], Any]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="a small, quick run (as the tests do)")
    parser.add_argument("--out", default="docs/figures", help="folder for the figure")
    args = parser.parse_args()
    main(args.fast, args.out)
