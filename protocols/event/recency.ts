/**
 * A Map kept in least-recently-used order where a use costs no Map operation: every entry is also
 * a node of a doubly linked list (least recent first) and `use` relinks it behind the newest.
 *
 * Keeping the order in the Map itself (`delete` then `set` on every use) is what the inventory and
 * the device dashboard did: under a feed where devices take turns (50 syslog hosts), that is a
 * deleted entry left in V8's hash table per event and the table rebuilt every few dozen events,
 * garbage that lived long enough to reach the old generation and was a share of the full
 * collections the gateway paid for per event (issue 18). Here a use writes a few pointers of
 * nodes that already exist: exact LRU order, O(1) per operation, a node allocated per new key only.
 */
interface Node<K, V> {
  readonly key: K;
  value: V;
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

export class RecencyMap<K, V> {
  readonly #nodes = new Map<K, Node<K, V>>();
  #oldest: Node<K, V> | undefined;
  #newest: Node<K, V> | undefined;

  get size(): number {
    return this.#nodes.size;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  /** The value, without making it the most recent. */
  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** The value, now the most recently used. */
  use(key: K): V | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    if (node !== this.#newest) {
      this.#unlink(node);
      this.#append(node);
    }
    return node.value;
  }

  /** Sets the value; the entry is the most recently used, new or not. */
  set(key: K, value: V): this {
    const node = this.#nodes.get(key);
    if (node) {
      node.value = value;
      if (node !== this.#newest) {
        this.#unlink(node);
        this.#append(node);
      }
      return this;
    }
    const created: Node<K, V> = { key, value, older: undefined, newer: undefined };
    this.#nodes.set(key, created);
    this.#append(created);
    return this;
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (!node) return false;
    this.#nodes.delete(key);
    this.#unlink(node);
    return true;
  }

  /** The least recently used entry, left in place; undefined when empty. */
  oldest(): [K, V] | undefined {
    const node = this.#oldest;
    return node && [node.key, node.value];
  }

  /** Removes and returns the least recently used entry; undefined when empty. */
  evictOldest(): [K, V] | undefined {
    const node = this.#oldest;
    if (!node) return undefined;
    this.#nodes.delete(node.key);
    this.#unlink(node);
    return [node.key, node.value];
  }

  clear(): void {
    this.#nodes.clear();
    this.#oldest = this.#newest = undefined;
  }

  /** Values, least recently used first (not to be changed while iterated: spread them first). */
  *values(): IterableIterator<V> {
    for (let node = this.#oldest; node; node = node.newer) yield node.value;
  }

  /** Entries, least recently used first (as `values`). */
  *entries(): IterableIterator<[K, V]> {
    for (let node = this.#oldest; node; node = node.newer) yield [node.key, node.value];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #unlink(node: Node<K, V>): void {
    if (node.older) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.#newest = node.older;
    node.older = node.newer = undefined;
  }

  #append(node: Node<K, V>): void {
    node.older = this.#newest;
    if (this.#newest) this.#newest.newer = node;
    else this.#oldest = node;
    this.#newest = node;
  }
}
