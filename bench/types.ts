export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

export interface Benchmark {
  name: string;
  run(): Promise<Figure[]>;
}

export function withBaseline(figure: Omit<Figure, 'ratio'> & { baseline: number }): Figure {
  return { ...figure, ratio: Number((figure.value / figure.baseline).toFixed(3)) };
}
