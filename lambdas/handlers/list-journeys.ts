// Placeholder: being written (see lambdas/core for the logic it will call).
export const handler = async (): Promise<void> => {
  throw new Error('not implemented yet');
};
