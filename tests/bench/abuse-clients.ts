/**
 * One abusive client for bench:abuse: POSTs 20,000-deep JSON bodies to /auth/login back to back
 * until the deadline, then prints how many it sent. Its own process, so the benchmark's health
 * probe does not share an event loop with the attack.
 */
const [url, secondsText] = process.argv.slice(2);
const deadline = performance.now() + Number(secondsText) * 1000;
const body = process.argv[4] === "small" ? "[]" : "[".repeat(20_000) + "]".repeat(20_000);
let sent = 0;
const statuses = new Map<number, number>();
while (performance.now() < deadline) {
  try {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  } catch {
    // A refused or reset connection counts as sent: the attack does not care.
    statuses.set(0, (statuses.get(0) ?? 0) + 1);
  }
  sent++;
}
console.log(JSON.stringify({ sent, statuses: Object.fromEntries(statuses) }));

export {};
