/**
 * Custom search attributes operators filter sagas by in the Temporal Web UI.
 * The dev-server script registers exactly these; workflows set them through
 * the typed keys in `workflows/search-attributes.ts`.
 */
export const SEARCH_ATTRIBUTES = {
  PaymentId: 'Keyword',
  CustomerId: 'Keyword',
  MerchantId: 'Keyword',
  SagaStatus: 'Keyword',
} as const;

/** The name of one custom search attribute. */
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
