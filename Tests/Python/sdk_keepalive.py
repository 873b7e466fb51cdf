"""50 sequential chat completions through the official openai SDK on ONE kept-alive connection.

Run by scripts/python-tests against a fresh release server. Half the completions stream, and
each one's answer must be complete; every response must come over the same TCP connection
(same client address), which fails if the server closes connections after chat completions.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import sys

import httpx
import openai

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


for i in range(50):
    messages = [{"role": "user", "content": f"Say a number between {i} and {i + 10}."}]
    try:
        if i % 2:
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

distinct = set(connections)
check(len(connections) == 50, f"{len(connections)} responses seen, expected 50")
check(len(distinct) == 1 and None not in distinct, f"responses came over {len(distinct)} connections: {sorted(map(str, distinct))}")
print(f"sdk_keepalive: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
