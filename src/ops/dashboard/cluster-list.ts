/**
 * One page of a list over the whole cluster. The nodes are ordered by id and
 * their lists put end to end; the page is a window on that concatenation.
 * Two rounds, each bounded by the link's timeout: every node's total for the
 * query (a size, or one pass of a search), then only the slices the window
 * covers, from the one or two nodes that hold them. A node that did not
 * answer a round is listed in `missing`, and its entries are left out.
 */
import type { DashboardLink, ListKind, LocalNode } from "./link.js";
import type { ListPage, ListQuery } from "./lists.js";

export interface ClusterPage {
  page: ListPage<unknown>;
  missing: string[];
}

export async function listAcrossNodes(
  link: DashboardLink,
  local: LocalNode,
  kind: ListKind,
  query: ListQuery,
): Promise<ClusterPage> {
  const counting = { q: query.q, offset: 0, limit: 0 };
  const counted = await link.list(kind, counting);
  const totals = [
    { node: local.node, total: local.list(kind, counting).total },
    ...counted.answers.map((a) => ({ node: a.node, total: a.page.total })),
  ].sort((a, b) => (a.node < b.node ? -1 : 1));
  const end = query.offset + query.limit;
  let start = 0;
  const slices: Promise<{ items: unknown[]; missing: string[] }>[] = [];
  for (const { node, total } of totals) {
    const from = Math.max(query.offset, start);
    const to = Math.min(end, start + total);
    if (from < to) {
      const slice = { q: query.q, offset: from - start, limit: to - from };
      slices.push(
        node === local.node
          ? Promise.resolve({ items: local.list(kind, slice).items, missing: [] })
          : link
              .list(kind, slice, node)
              .then((got) => ({ items: got.answers[0]?.page.items ?? [], missing: got.missing })),
      );
    }
    start += total;
  }
  const parts = await Promise.all(slices);
  const missing = new Set(counted.missing);
  for (const part of parts) for (const node of part.missing) missing.add(node);
  return {
    page: { total: start, items: parts.flatMap((p) => p.items), scanned: 0 },
    missing: [...missing].sort(),
  };
}
