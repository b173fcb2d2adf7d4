/**
 * Watching a PCI function's `removed` promise, for the card drivers. A platform
 * that can re-insert a card hands out a new promise after each removal: the
 * device watches again when it brings a re-inserted card back, and only the
 * newest promise counts, so an old one settling late cannot take the card out
 * again. A platform that cannot re-insert keeps the old promise, which is not
 * watched twice.
 */
export class RemovalWatch {
  #watched: Promise<void> | undefined;
  readonly #onRemoved: () => void;

  constructor(onRemoved: () => void) {
    this.#onRemoved = onRemoved;
  }

  /** Watch `removed` (the function's current promise) unless it is the one already watched. */
  watch(removed: Promise<void>): void {
    if (removed === this.#watched) return;
    this.#watched = removed;
    void removed.then(() => {
      if (this.#watched === removed) this.#onRemoved();
    });
  }
}
