"""Write the bundled demo estate (demo/estate), as ``builders/demo_estate.py`` describes it.

    python scripts/make_demo_estate.py [--out demo/estate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builders.demo_estate import CAPTURED_AT, DEFAULT_OUT, build_regions
from builders.estate_builder import write_regions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    write_regions(args.out, build_regions(), CAPTURED_AT)
    print(f"demo estate written to {args.out}")


if __name__ == "__main__":
    main()
