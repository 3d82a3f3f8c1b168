/**
 * Counting what one publisher's stream did at its receivers: each receiver
 * records the sequence numbers it got, in arrival order; against the set of
 * messages the publisher had acknowledged, that gives what was received,
 * lost, duplicated and out of order. Used by the node-death test.
 */

/** The counts of one kind of client (its receivers summed). */
export interface DeliveryCounts {
  kind: string;
  clients: number;
  /** Messages the publisher had acknowledged: what each receiver should get. */
  sent: number;
  /** Distinct messages received, summed over the receivers. */
  received: number;
  /** Acknowledged messages a receiver never got, summed. */
  lost: number;
  /** Receptions of a message already received, summed. */
  duplicated: number;
  /** First receptions of a message after one published later, summed. */
  outOfOrder: number;
  /**
   * Milliseconds from a message's acknowledgement to its first reception
   * (negative when it arrived before the ack), median and 99th percentile
   * over every receiver; absent without acknowledgement times.
   */
  latency?: { p50: number; p99: number };
}

/** One receiver: the sequence numbers it got, in arrival order. */
export class Receipts {
  readonly seqs: number[] = [];
  /** When each reception of {@link seqs} happened (Date.now()). */
  readonly times: number[] = [];
  /** When each message first arrived (Date.now()). */
  readonly firstAt = new Map<number, number>();
  readonly #seen = new Set<number>();

  record(seq: number): void {
    this.seqs.push(seq);
    this.times.push(Date.now());
    this.#seen.add(seq);
    if (!this.firstAt.has(seq)) this.firstAt.set(seq, Date.now());
  }

  /** Whether every message of `acked` has arrived. */
  hasAll(acked: ReadonlySet<number>): boolean {
    for (const seq of acked) if (!this.#seen.has(seq)) return false;
    return true;
  }
}

/**
 * The counts of `receivers` (one kind of client) for a publisher whose
 * acknowledged messages are `acked`, acknowledged at `ackedAt` (optional,
 * for the latency).
 *
 * @example
 * const counts = countDeliveries("websocket", receivers, new Set([0, 1, 2]));
 * assert.equal(counts.lost, 0);
 */
export function countDeliveries(
  kind: string,
  receivers: readonly Receipts[],
  acked: ReadonlySet<number>,
  ackedAt?: ReadonlyMap<number, number>,
): DeliveryCounts {
  const counts: DeliveryCounts = {
    kind,
    clients: receivers.length,
    sent: acked.size,
    received: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
  };
  for (const receiver of receivers) {
    const seen = new Set<number>();
    let highest = -1;
    for (const seq of receiver.seqs) {
      if (seen.has(seq)) {
        counts.duplicated++;
        continue;
      }
      seen.add(seq);
      if (seq < highest) counts.outOfOrder++;
      else highest = seq;
    }
    counts.received += seen.size;
    for (const seq of acked) if (!seen.has(seq)) counts.lost++;
  }
  if (ackedAt) {
    const delays: number[] = [];
    for (const receiver of receivers) {
      for (const [seq, at] of receiver.firstAt) {
        const ack = ackedAt.get(seq);
        if (ack !== undefined) delays.push(at - ack);
      }
    }
    delays.sort((a, b) => a - b);
    const rank = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
    if (delays.length > 0) counts.latency = { p50: rank(0.5), p99: rank(0.99) };
  }
  return counts;
}

/** The counts as a table, one row per kind, for the test output. */
export function formatCounts(rows: readonly DeliveryCounts[], notes: Record<string, string> = {}) {
  const header = ["client kind", "clients", "sent", "received", "lost", "dup", "out of order"];
  const latency = rows.some((r) => r.latency);
  if (latency) header.push("p50 ms", "p99 ms");
  const lines = rows.map((r) => [
    r.kind + (notes[r.kind] ? ` (${notes[r.kind]})` : ""),
    String(r.clients),
    String(r.sent),
    String(r.received),
    String(r.lost),
    String(r.duplicated),
    String(r.outOfOrder),
    ...(latency ? [String(r.latency?.p50 ?? "-"), String(r.latency?.p99 ?? "-")] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [row(header), ...lines.map(row)].join("\n");
}

/**
 * The acknowledged messages `receipts` lacks, as runs of consecutive
 * sequence numbers (`[first, last]`), oldest first: where in the run a
 * client lost its messages.
 *
 * @example
 * lostRuns(receipts, new Set([0, 1, 2, 3, 5])); // [[1, 2], [5, 5]] when 0 and 3 arrived
 */
export function lostRuns(receipts: Receipts, acked: ReadonlySet<number>): [number, number][] {
  const got = new Set(receipts.seqs);
  const missing = [...acked].filter((seq) => !got.has(seq)).sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const seq of missing) {
    const last = runs.at(-1);
    if (last && last[1] === seq - 1) last[1] = seq;
    else runs.push([seq, seq]);
  }
  return runs;
}

/** A run of receptions that broke the rules: repeated or out of order. */
export interface Anomaly {
  kind: "duplicate" | "out of order";
  /** The first and last sequence number of the run, and how many receptions. */
  first: number;
  last: number;
  count: number;
  /** When the run's receptions arrived (Date.now()). */
  from: number;
  to: number;
}

/**
 * The duplicated and out-of-order receptions of `receipts`, in bursts: one
 * run per kind while each reception follows the previous one of its kind by
 * less than `gap` ms (normal receptions in between do not end it). Says when
 * and where a client got messages twice or late.
 *
 * @example
 * for (const a of anomalies(receipts)) console.log(a.kind, a.first, a.last, a.count);
 */
export function anomalies(receipts: Receipts, gap = 1000): Anomaly[] {
  const runs: Anomaly[] = [];
  const open = new Map<Anomaly["kind"], Anomaly>();
  const seen = new Set<number>();
  let highest = -1;
  for (const [i, seq] of receipts.seqs.entries()) {
    let kind: Anomaly["kind"] | undefined;
    if (seen.has(seq)) kind = "duplicate";
    else if (seq < highest) kind = "out of order";
    seen.add(seq);
    highest = Math.max(highest, seq);
    if (!kind) continue;
    const at = receipts.times[i];
    const run = open.get(kind);
    if (run && at - run.to < gap) {
      run.first = Math.min(run.first, seq);
      run.last = Math.max(run.last, seq);
      run.count++;
      run.to = at;
    } else {
      const fresh: Anomaly = { kind, first: seq, last: seq, count: 1, from: at, to: at };
      open.set(kind, fresh);
      runs.push(fresh);
    }
  }
  return runs;
}
