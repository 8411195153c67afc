"""What the Python test scripts share: counting checks, running every
test_* function of a module, and the closing 'N passed, N failed' line."""
import shutil
import sys


class Results:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}: {detail}")
        return ok


def run_tests(module_globals, results, tmp_dir):
    """Runs each test_* function in definition order, removes tmp_dir, prints
    the summary line and exits non-zero if any check failed."""
    try:
        for name, fn in list(module_globals.items()):
            if name.startswith("test_") and callable(fn):
                fn()
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    print(f"{results.name}: {results.passed} passed, {results.failed} failed")
    sys.exit(1 if results.failed else 0)
