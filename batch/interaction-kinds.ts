// The two interaction tables and how a kind is coded in staging tables and in the DUPLICATE registry.
export type InteractionKind = 'rating' | 'request';
export const INTERACTION_KINDS: readonly InteractionKind[] = ['rating', 'request'];

interface KindShape {
  parent: string;
  value: string;
  code: 0 | 1;
}

export const KIND_SHAPE: Record<InteractionKind, KindShape> = {
  rating: { parent: 'rating_interaction', value: 'rating_value', code: 0 },
  request: { parent: 'request_interaction', value: 'request_value', code: 1 },
};
