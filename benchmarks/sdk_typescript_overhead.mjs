// Times `client.persons.get(id)` through @og/api-sdk against the same GET with raw fetch, in rounds interleaved call
// by call; each round's medians are reported too, for the ratio's median and spread over rounds.
// Run by sdk_typescript_overhead.py, which starts the server and passes OG_BENCH_* variables.
import { OGRecords } from '../sdk-typescript/dist/index.js';

const { OG_BENCH_BASE_URL: baseUrl, OG_BENCH_API_KEY: apiKey, OG_BENCH_PERSON_ID: personId } = process.env;
const requests = Number(process.env.OG_BENCH_REQUESTS ?? '2000');
const ROUNDS = Number(process.env.OG_BENCH_ROUNDS ?? '20');

const client = new OGRecords({ apiKey, baseUrl });
const url = `${baseUrl}/api/v1/persons/${personId}`;
const headers = { Authorization: `Bearer ${apiKey}` };

const clients = {
  'raw fetch': async () => {
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`raw fetch: ${response.status}`);
    return response.json();
  },
  '@og/api-sdk': () => client.persons.get(personId),
};

async function time(call, count) {
  const durations = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    durations.push(performance.now() - started);
  }
  return durations;
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];
const samples = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
const rounds = [];
for (const call of Object.values(clients)) await time(call, 50); // warm up connections and JIT
// Interleaved call by call (A B A B …, the first side alternating): both clients see the same moments of the machine.
for (let round = 0; round < ROUNDS; round++) {
  const durations = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
  for (let call = 0; call < Math.ceil(requests / ROUNDS); call++) {
    const order = (call + round) % 2 === 0 ? Object.keys(clients) : Object.keys(clients).reverse();
    for (const name of order) durations[name].push(...(await time(clients[name], 1)));
  }
  for (const name of Object.keys(clients)) samples[name].push(...durations[name]);
  rounds.push({ round, raw_ms: quantile(durations['raw fetch'], 0.5), sdk_ms: quantile(durations['@og/api-sdk'], 0.5) });
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const stats = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, { mean: mean(values), p50: quantile(values, 0.5), p95: quantile(values, 0.95), n: values.length }]),
);
console.log(JSON.stringify({ stats, rounds }));
