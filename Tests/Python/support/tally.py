"""Pass/fail counting shared by the Python integration tests.

Each failed check prints one FAIL line at once (with the tally's current context, such as the
transport under test); `finish` prints 'NAME: N passed, N failed' and exits non-zero on any failure.
"""
import sys


class Tally:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.context = ""

    def check(self, what, condition, detail=""):
        if condition:
            self.passed += 1
            return
        self.failed += 1
        where = f"[{self.context}] " if self.context else ""
        print(f"FAIL {where}{what}" + (f": {detail!r}" if detail != "" else ""), file=sys.stderr)

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
