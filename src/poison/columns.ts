/** Names of the ground-truth columns `abl-audit poison` adds. The audit never reads them to decide. */
export const GROUND_TRUTH_COLUMNS = ['poisoned', 'label_original', 'attack'] as const;

/** Schema metadata key holding the poisoning parameters and counts as JSON. */
export const POISON_METADATA_KEY = 'abl_audit.poison';
