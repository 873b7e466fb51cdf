"""50 sequential chat completions through the official openai SDK on ONE kept-alive connection.

Run by scripts/conformance against a fresh release server. Every response must come over the
same TCP connection (same client address), which fails if the server closes connections after
chat completions. Ten streamed completions follow; the SDK (openai 3.x) does not hand a streamed
response's connection back to its pool, so those are checked for a complete answer only (raw
keep-alive after streams is ConnectionReuseTests' job).
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import os
import sys

import openai

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from tally import Tally  # noqa: E402

try:  # openai 1.x and 2.x use httpx; later versions vendor it as httpx2
    import httpx
except ImportError:
    import httpx2 as httpx

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()

connections = []


def remember_connection(response):
    stream = response.extensions.get("network_stream")
    connections.append(stream.get_extra_info("client_addr") if stream else None)


http = httpx.Client(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    event_hooks={"response": [remember_connection]}, timeout=60)
client = openai.OpenAI(base_url=args.base_url, api_key="unused", http_client=http, max_retries=0)

TALLY = Tally("sdk_keepalive")


for i in range(60):
    messages = [{"role": "user", "content": f"Say a number between {i} and {i + 10}."}]
    try:
        if i >= 50:
            text, finish = "", None
            for chunk in client.chat.completions.create(model=args.model, messages=messages, max_tokens=8,
                                                        seed=i, stream=True):
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                    finish = chunk.choices[0].finish_reason or finish
            TALLY.check(f"completion {i} (stream): finish_reason {finish!r}", finish in ("stop", "length"))
        else:
            reply = client.chat.completions.create(model=args.model, messages=messages, max_tokens=8, seed=i)
            TALLY.check(f"completion {i}: {reply}", reply.choices[0].finish_reason in ("stop", "length"))
    except Exception as error:  # a dropped connection is exactly what this test looks for
        TALLY.check(f"completion {i}: {error!r}", False)

distinct = set(connections[:50])
TALLY.check(f"{len(connections)} responses seen, expected 60", len(connections) == 60)
TALLY.check(f"responses came over {len(distinct)} connections: {sorted(map(str, distinct))}", len(distinct) == 1 and None not in distinct)
TALLY.finish()
