// How many bytes to ask of each Kafka fetch so that what it decodes stays within a budget. The broker limits a
// fetch in bytes as stored, and a compressed batch decodes to several times its size (kiosk JSON under zstd:
// bench/README.md, "Memory under a compressed backlog"); kafkajs decodes a whole fetch into message objects
// before handing any of it on. So the limits sent are the budget divided by the expansion measured on the
// batches decompressed so far.
//
// A fetch that comes before anything was measured assumes a high expansion (one small first fetch); a topic
// that turns from uncompressed to compressed under a backlog can make one fetch decode up to the expansion
// times the budget before the next fetch is sized down.

export interface FetchBudgetOptions {
  /** Bytes one fetch may decode to, across its partitions (the records as Kafka encodes them, decompressed). */
  maxDecodedBytes: number;
  /** Ceilings of what one fetch asks for, in bytes as stored: the configured fetch sizes. */
  maxBytes: number;
  maxBytesPerPartition: number;
}

/** Expansion assumed before any batch is measured: zstd on kiosk JSON measured up to about 12 (bench/README.md). */
export const UNMEASURED_EXPANSION = 32;
/** Kafka returns at least one record batch per fetch whatever the limit; below this the request costs more than it brings. */
export const MIN_BYTES_PER_PARTITION = 16 * 1024;
/** Compressed bytes after which older measurements count half: the estimate follows what producers do now. */
const WINDOW_BYTES = 16 * 1024 * 1024;

export class FetchBudget {
  private partitions = 1;
  private compressed = 0;
  private decompressed = 0;
  private measured = false;

  constructor(private readonly options: FetchBudgetOptions) {}

  /** The partitions a fetch asks for (those this member was assigned): each gets an equal share. */
  setPartitions(count: number): void {
    this.partitions = Math.max(1, count);
  }

  /**
   * After a fetch: the bytes of compressed batches it decompressed, in and out, and whether it returned records
   * at all (uncompressed ones do not pass through a codec).
   */
  observe(compressedBytes: number, decompressedBytes: number, records: boolean): void {
    if (records || compressedBytes > 0) this.measured = true;
    this.compressed += compressedBytes;
    this.decompressed += decompressedBytes;
    while (this.compressed > WINDOW_BYTES) {
      this.compressed /= 2;
      this.decompressed /= 2;
    }
  }

  /**
   * Decoded bytes per stored byte. Compressed batches set it while any are in the window, even when the same
   * fetch also held uncompressed ones: the estimate errs on the small fetch.
   */
  get expansion(): number {
    if (this.compressed > 0) return Math.max(1, this.decompressed / this.compressed);
    return this.measured ? 1 : UNMEASURED_EXPANSION;
  }

  get maxBytesPerPartition(): number {
    const share = this.options.maxDecodedBytes / (this.partitions * this.expansion);
    return Math.floor(Math.min(this.options.maxBytesPerPartition, Math.max(MIN_BYTES_PER_PARTITION, share)));
  }

  get maxBytes(): number {
    const total = this.options.maxDecodedBytes / this.expansion;
    return Math.floor(Math.max(this.maxBytesPerPartition, Math.min(this.options.maxBytes, total)));
  }
}
