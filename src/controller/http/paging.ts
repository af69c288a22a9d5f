import { t as T } from "elysia";

/** `?page=1&pageSize=50`; the maximum differs per resource. */
export function pagingQuery(maxPageSize: number, extra: Record<string, ReturnType<typeof T.String>> = {}) {
  return T.Object(
    {
      page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
      pageSize: T.Optional(
        T.Integer({ minimum: 1, maximum: maxPageSize, default: Math.min(50, maxPageSize) }),
      ),
      ...extra,
    },
    { additionalProperties: false },
  );
}

export interface ListEnvelope<T> {
  data: T[];
  page: number;
  pageSize: number;
  total: number;
}

export function listEnvelope<T>(data: T[], page: number, pageSize: number, total: number): ListEnvelope<T> {
  return { data, page, pageSize, total };
}

/** The page a request asked for, with the defaults the paging schemas declare. */
export function pageParams(query: { page?: number; pageSize?: number }): { page: number; pageSize: number } {
  return { page: query.page ?? 1, pageSize: query.pageSize ?? 50 };
}

/** One page of a list that is already in memory (small collections: roles, networks, templates, catalog). */
export function pageOf<T>(all: T[], query: { page?: number; pageSize?: number }): ListEnvelope<T> {
  const { page, pageSize } = pageParams(query);
  return listEnvelope(all.slice((page - 1) * pageSize, page * pageSize), page, pageSize, all.length);
}
