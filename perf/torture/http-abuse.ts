import { Report, type Mode, type PartResult } from './common.ts';
export async function runHttpAbuse(_mode: Mode, _seed: number): Promise<PartResult> {
  return new Report('http-abuse').result();
}
