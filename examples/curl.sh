#!/usr/bin/env bash
# Chat (JSON), a stream and a search with curl. Run: bash examples/curl.sh
set -euo pipefail
BASE_URL="${PERPLEXITY_BASE_URL:-http://127.0.0.1:8000}"
KEY="${PERPLEXITY_API_KEY:-pplx-local}"

post() {  # post PATH JSON [curl options...]
  local path="$1" body="$2"
  shift 2
  curl -sS --fail-with-body "$@" "$BASE_URL$path" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$body"
}

echo "== chat"
answer="$(post /chat/completions '{"model": "sonar", "messages": [{"role": "user", "content": "What is the capital of France?"}]}')"
# jq picks out a few fields when it is installed; otherwise print the start of the body.
if command -v jq >/dev/null; then
  jq -r '"answer: \(.choices[0].message.content[:120])\ncitations: \(.citations | length)"' <<<"$answer"
else
  printf '%s\n' "${answer:0:200}"
fi

echo "== stream"
# -N: no buffering, so events print as they arrive; the stream ends with `data: [DONE]`.
post /chat/completions '{"model": "sonar", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}' -N \
  | grep -c '^data: {' | sed 's/^/chunks: /'

echo "== search"
results="$(post /search '{"query": "large language model inference throughput", "max_results": 3}')"
printf 'results: %s\n' "$(grep -o '"url":' <<<"$results" | wc -l | tr -d ' ')"
