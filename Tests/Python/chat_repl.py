#!/usr/bin/env python3
"""`switchboard chat` in a pseudo-terminal, against the server under test: a question gets a
streamed answer, `/tools` lists the demo tools, a forced tool call runs and shows its result,
Ctrl-C stops a reply without leaving, `/reset` clears, `/exit` leaves with status 0.

    chat_repl.py --base-url http://127.0.0.1:PORT/v1 --model MODEL
"""
import argparse
import os
import pty
import re
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from tally import Tally  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, ".build", "release", "switchboard")
TALLY = Tally("chat_repl")
check = TALLY.check


class Session:
    """A `switchboard chat` process on a pseudo-terminal."""

    def __init__(self, *arguments):
        # pty.fork makes the terminal the child's controlling one, so Ctrl-C is a SIGINT.
        pid, self.master = pty.fork()
        if pid == 0:
            os.execv(BINARY, [BINARY, "chat", *arguments])
        self.pid = pid
        self.status = None
        self.output = ""

    def running(self):
        if self.status is None:
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status is None

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            self.read_until(r"$^", timeout=0.2)
        return self.status

    def read_until(self, pattern, timeout=120):
        """Everything read until `pattern` (a regex) appears in the output since this call."""
        start, deadline = len(self.output), time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output[start:]):
                return self.output[start:]
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        return self.output[start:]

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        if self.running():
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self.master)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()

    chat = Session("--base-url", args.base_url, "--model", args.model, "--max-tokens", "2000")
    try:
        banner = chat.read_until(r"> $")
        check("banner names the model", args.model in banner, banner)

        chat.send("Say hello to me in one short sentence.\n")
        reply = chat.read_until(r"\n> $")
        text = reply.replace("Say hello to me in one short sentence.", "").strip().rstrip(">").strip()
        check("a question gets an answer", len(text) > 0, reply)

        chat.send("/tools\n")
        listed = chat.read_until(r"\n> $")
        check("/tools lists the demo tools", all(name in listed for name in ("clock", "calculator", "read_file")), listed)

        chat.send("/reset\n")
        check("/reset clears", "conversation cleared" in chat.read_until(r"\n> $"))

        # Ctrl-C during a long reply stops it; the prompt comes back and the chat goes on.
        # The terminal echoes the question, so wait for words after its line: the reply's own.
        chat.send("Write a very long story about a dragon and a castle.\n")
        chat.read_until(r"castle\.\r?\n[^>]*\w{3}", timeout=60)
        chat.send("\x03")
        stopped = chat.read_until(r"\[stopped\][\s\S]*> $", timeout=30)
        check("Ctrl-C stops the reply", "[stopped]" in stopped, stopped)
        check("Ctrl-C does not leave", chat.running())
        chat.send("/exit\n")
        check("/exit leaves with status 0", chat.wait(timeout=10) == 0)
    finally:
        chat.close()

    # A forced call: the tool runs in the client and its result shows before the answer.
    chat = Session("--base-url", args.base_url, "--model", args.model, "--tool-choice", "required", "--max-tokens", "60")
    try:
        chat.read_until(r"> $")
        chat.send("What is 12 * 7? Use the calculator.\n")
        turn = chat.read_until(r"\n> $", timeout=180)
        call = re.search(r"⚙ (\w+)\((.*)\)", turn)
        check("a tool call is shown", call is not None, turn)
        check("its result is shown", re.search(r"  [→✗] ", turn) is not None, turn)
        # The model may well ask for something else; only 12 * 7 itself must come out as 84.
        expression = re.sub(r"\s", "", call.group(2)) if call else ""
        if call and call.group(1) == "calculator" and expression in ('{"expression":"12*7"}', '{"expression":"7*12"}'):
            check("the calculator ran", "→ 84" in turn, turn)
    finally:
        chat.close()

    TALLY.finish()


if __name__ == "__main__":
    main()
