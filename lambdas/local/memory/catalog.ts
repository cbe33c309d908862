import { fromCatalogItem, type CatalogKind } from '../../adapters/dynamodb-catalog';
import type { CatalogRecord, CatalogStore } from '../../core/decisions/ports';
import type { MemoryTable } from './table';

/**
 * Segments, offers or placements as DynamoCatalogStore keeps them in the journeys table (`<KIND>S` / `<KIND>#<id>`,
 * the definition as JSON text, so a definition reads back exactly as it would from DynamoDB).
 */
export class MemoryCatalogStore<T extends { id: string }> implements CatalogStore<T> {
  private readonly pk: string;
  private readonly skPrefix: string;

  constructor(
    private readonly table: MemoryTable,
    readonly kind: CatalogKind,
  ) {
    this.pk = `${kind}S`;
    this.skPrefix = `${kind}#`;
  }

  async list(): Promise<CatalogRecord<T>[]> {
    return this.table.query(this.pk, { prefix: this.skPrefix }).map((item) => fromCatalogItem<T>(item));
  }

  async get(id: string): Promise<CatalogRecord<T> | undefined> {
    const item = this.table.get(this.key(id));
    return item ? fromCatalogItem<T>(item) : undefined;
  }

  async put(record: CatalogRecord<T>, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean> {
    const key = this.key(record.definition.id);
    if (!condition.force) {
      const held = this.table.get(key);
      // attribute_not_exists(pk) | version = :v
      if (condition.expectedVersion === undefined ? held !== undefined : held?.version !== condition.expectedVersion) return false;
    }
    const { origin, version, updatedAt } = record;
    this.table.put({ ...key, definition: JSON.stringify(record.definition), origin, version, updatedAt });
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.table.delete(this.key(id)) !== undefined;
  }

  private key(id: string) {
    return { pk: this.pk, sk: `${this.skPrefix}${id}` };
  }
}

