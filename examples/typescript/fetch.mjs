// Chat, a stream and a search with plain `fetch` (Node.js 18+ or a browser), no npm packages.
// Run: node examples/typescript/fetch.mjs
// JavaScript with JSDoc types rather than TypeScript, so Node 20 runs it as is.

const BASE_URL = process.env.PERPLEXITY_BASE_URL ?? "http://127.0.0.1:8000";
const API_KEY = process.env.PERPLEXITY_API_KEY ?? "pplx-local";

/**
 * @typedef {{ role: "system" | "user" | "assistant", content: string }} Message
 * @typedef {{ total_cost: number }} Cost
 * @typedef {{ prompt_tokens: number, completion_tokens: number, total_tokens: number, cost: Cost }} Usage
 * @typedef {{ id: string, model: string, citations?: string[],
 *   choices: { message: Message, delta: { content?: string }, finish_reason: string | null }[],
 *   usage?: Usage }} ChatCompletion
 * @typedef {{ id: string, results: { title: string, url: string, snippet: string }[] }} SearchResponse
 */

/**
 * POST a JSON body; throws with the API's error message on a non-2xx answer.
 * @param {string} path
 * @param {Record<string, unknown>} body
 * @returns {Promise<Response>}
 */
async function post(path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

/**
 * The `data:` payloads of an SSE body, one parsed object per event, until `[DONE]`.
 * @param {Response} response
 * @returns {AsyncGenerator<ChatCompletion>}
 */
async function* events(response) {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice("data: ".length);
        if (data === "[DONE]") return;
        yield JSON.parse(data);
      }
    }
  }
}

/** @type {Message[]} */
const messages = [{ role: "user", content: "What is the capital of France?" }];

/** @type {ChatCompletion} */
const answer = await (await post("/chat/completions", { model: "sonar", messages })).json();
console.log(`answer: ${answer.choices[0].message.content.slice(0, 120)}`);
console.log(`citations: ${(answer.citations ?? []).length}, cost: $${answer.usage?.cost.total_cost}`);

let streamed = "";
/** @type {Usage | undefined} */
let usage;
for await (const chunk of events(await post("/chat/completions", { model: "sonar", messages, stream: true }))) {
  streamed += chunk.choices[0]?.delta.content ?? "";
  usage = chunk.usage ?? usage;
}
console.log(`streamed ${streamed.length} characters, ${usage?.completion_tokens} tokens`);

/** @type {SearchResponse} */
const search = await (await post("/search", { query: "large language model inference throughput", max_results: 3 })).json();
for (const result of search.results) console.log(`- ${result.title} <${result.url}>`);
console.log(`search results: ${search.results.length}`);
