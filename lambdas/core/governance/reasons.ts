/** Suppression reasons written to the ledger (and shown wherever sends are explained); apart from the rules' schema. */
export const governanceReason = {
  frequencyCap: (ruleId: string) => `frequency-cap:${ruleId}`,
  quietHours: (ruleId: string) => `quiet-hours:${ruleId}`,
  quietHoursExpired: 'quiet-hours-expired',
  preempted: 'preempted',
} as const;
