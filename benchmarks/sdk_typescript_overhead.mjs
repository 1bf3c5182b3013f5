// Times `client.persons.get(id)` through @og/api-sdk against the same GET with raw fetch, in interleaved rounds
// (A B, B A, …); each round's medians are reported too, for the ratio's median and spread over rounds.
// Run by sdk_typescript_overhead.py, which starts the server and passes OG_BENCH_* variables.
import { OGRecords } from '../sdk-typescript/dist/index.js';

const { OG_BENCH_BASE_URL: baseUrl, OG_BENCH_API_KEY: apiKey, OG_BENCH_PERSON_ID: personId } = process.env;
const requests = Number(process.env.OG_BENCH_REQUESTS ?? '2000');
const ROUNDS = Number(process.env.OG_BENCH_ROUNDS ?? '5');

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
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? Object.keys(clients) : Object.keys(clients).reverse();
  const medians = {};
  for (const name of order) {
    const durations = await time(clients[name], Math.ceil(requests / ROUNDS));
    samples[name].push(...durations);
    medians[name] = quantile(durations, 0.5);
  }
  rounds.push({ round, raw_ms: medians['raw fetch'], sdk_ms: medians['@og/api-sdk'] });
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const stats = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, { mean: mean(values), p50: quantile(values, 0.5), p95: quantile(values, 0.95), n: values.length }]),
);
console.log(JSON.stringify({ stats, rounds }));
