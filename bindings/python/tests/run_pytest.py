#!/usr/bin/env python3
"""Run the binding's pytest suite for `meson test` (suite 'bindings').

Exits 77 (meson's "skipped") with a message when pytest is missing or
when the build cannot be loaded into Python (a ThreadSanitizer build).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    if os.environ.get("VYOMCOMM_PY_SKIP"):
        print("skipped: " + os.environ["VYOMCOMM_PY_SKIP"])
        return 77
    try:
        import pytest
    except ImportError:
        print(f"skipped: pytest is not importable by {sys.executable} "
              "(Debian: apt-get install python3-pytest)")
        return 77
    # No bytecode or cache files in the source tree.
    sys.dont_write_bytecode = True
    return int(pytest.main([HERE, "-q", "-p", "no:cacheprovider", "-rs"] +
                           sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
