"""50 sequential chat completions through the official openai SDK on ONE kept-alive connection.

Run by scripts/conformance against a fresh release server. Every response must come over the
same TCP connection (same client address), which fails if the server closes connections after
chat completions. Ten streamed completions follow; the SDK (openai 3.x) does not hand a streamed
response's connection back to its pool, so those are checked for a complete answer only (raw
keep-alive after streams is ConnectionReuseTests' job).
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import sys

import openai

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

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", file=sys.stderr)


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
            check(finish in ("stop", "length"), f"completion {i} (stream): finish_reason {finish!r}")
        else:
            reply = client.chat.completions.create(model=args.model, messages=messages, max_tokens=8, seed=i)
            check(reply.choices[0].finish_reason in ("stop", "length"), f"completion {i}: {reply}")
    except Exception as error:  # a dropped connection is exactly what this test looks for
        check(False, f"completion {i}: {error!r}")

distinct = set(connections[:50])
check(len(connections) == 60, f"{len(connections)} responses seen, expected 60")
check(len(distinct) == 1 and None not in distinct, f"responses came over {len(distinct)} connections: {sorted(map(str, distinct))}")
print(f"sdk_keepalive: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
