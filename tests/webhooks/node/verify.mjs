// Reads {secret, headers, body} as JSON on stdin; verifies with the official `standardwebhooks` npm package.
// Prints {"ok": true, "payload": …} or {"ok": false, "error": "…"}.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, headers, body } = JSON.parse(input);
try {
  const payload = new Webhook(secret).verify(body, headers);
  console.log(JSON.stringify({ ok: true, payload }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error) }));
}
