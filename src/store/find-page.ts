import type { Collection, Doc, Filter, SortSpec } from "./port.ts";

/**
 * One page of a collection and the total it pages over: the one way services answer a paged list
 * (`?page` counts from 1). The sort should end on a unique field so pages do not overlap.
 */
export async function findPage<T extends Doc>(
  col: Collection<T>,
  filter: Filter,
  paging: { page: number; pageSize: number },
  sort: SortSpec,
): Promise<{ data: T[]; total: number }> {
  const [data, total] = await Promise.all([
    col.find(filter, { sort, skip: (paging.page - 1) * paging.pageSize, limit: paging.pageSize }),
    col.count(filter),
  ]);
  return { data, total };
}
