/** What every list operation answers: one page of items and the cursor of the next. */
export interface ListResponse<Item> {
  data: Item[];
  has_more: boolean;
  next_cursor: string | null;
}

export type PageFetcher<Item> = (cursor: string | undefined) => Promise<ListResponse<Item>>;

/** One page of a list. `for await (const item of page)` walks this page and every page after it. */
export class Page<Item> implements AsyncIterable<Item> {
  readonly data: Item[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
  readonly #fetchPage: PageFetcher<Item>;

  constructor(response: ListResponse<Item>, fetchPage: PageFetcher<Item>) {
    this.data = response.data;
    this.hasMore = response.has_more;
    this.nextCursor = response.next_cursor;
    this.#fetchPage = fetchPage;
  }

  hasNextPage(): boolean {
    return this.hasMore && this.nextCursor !== null;
  }

  /** The following page; throws when there is none (check `hasNextPage()` first). */
  async getNextPage(): Promise<Page<Item>> {
    if (!this.hasNextPage() || this.nextCursor === null) throw new Error('This is the last page: check hasNextPage() first.');
    return new Page(await this.#fetchPage(this.nextCursor), this.#fetchPage);
  }

  /** This page and every page after it. */
  async *iterPages(): AsyncGenerator<Page<Item>, void, undefined> {
    let page: Page<Item> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/**
 * What a `list()` method returns: `await` it for the first page, or `for await` over it for every item across
 * pages (fetching each page only when the previous one is used up).
 */
export class PagePromise<Item> implements Promise<Page<Item>>, AsyncIterable<Item> {
  readonly [Symbol.toStringTag] = 'PagePromise';
  readonly #firstPage: () => Promise<Page<Item>>;
  #started: Promise<Page<Item>> | undefined;

  constructor(fetchPage: PageFetcher<Item>) {
    this.#firstPage = async () => new Page(await fetchPage(undefined), fetchPage);
  }

  #page(): Promise<Page<Item>> {
    this.#started ??= this.#firstPage();
    return this.#started;
  }

  then<Result1 = Page<Item>, Result2 = never>(
    onfulfilled?: ((page: Page<Item>) => Result1 | PromiseLike<Result1>) | null,
    onrejected?: ((reason: unknown) => Result2 | PromiseLike<Result2>) | null,
  ): Promise<Result1 | Result2> {
    return this.#page().then(onfulfilled, onrejected);
  }

  catch<Result = never>(onrejected?: ((reason: unknown) => Result | PromiseLike<Result>) | null): Promise<Page<Item> | Result> {
    return this.#page().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Page<Item>> {
    return this.#page().finally(onfinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    yield* await this.#page();
  }
}
