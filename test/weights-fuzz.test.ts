/**
 * Mutation fuzz of the weights parser: byte flips, truncations, header edits
 * with a recomputed header checksum (so they reach the JSON and tensor-table
 * checks), and appended bytes. Every mutant must either be refused with an
 * MtcnnError('BAD_WEIGHTS'), or parse to tensors byte-identical to the
 * original's, and only where the mutation touched bytes no check covers.
 * Never another exception, never a silently different tensor, never slow.
 *
 * Which bytes are covered is read here independently of the parser (DataView
 * and node:zlib's crc32, per weights/README.md): the 20-byte preamble (magic,
 * version, header length, header CRC), the header (its CRC), and each tensor's
 * bytes (its CRC). The rest would be alignment padding between tensors; the
 * current file has none (every tensor's size is a multiple of 8 bytes), so
 * every flip and every truncation must be refused. Bytes appended after the
 * last tensor are not checked by anything: they parse (see the last case).
 *
 * The hand-written bad files (each check named) are in weights.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { MtcnnError } from '../src/errors.ts';
import { DEFAULT_WEIGHTS_PATH } from '../src/node/weights.ts';
import { parseWeights, type MtcnnWeights } from '../src/weights/format.ts';
import { rng } from './helpers/random.ts';

const Fuzz = suite('weights-fuzz');

const PREAMBLE = 20;
/** Per mutant: parsing 2 MB with CRCs takes a few ms; anything near this bound is a hang or a blow-up. */
const MAX_MS_PER_PARSE = 1000;


const original = new Uint8Array(readFileSync(DEFAULT_WEIGHTS_PATH));
const view = new DataView(original.buffer, original.byteOffset, original.byteLength);
const headerLen = view.getUint32(12, true);
const dataStart = PREAMBLE + headerLen;
const header = JSON.parse(new TextDecoder().decode(original.subarray(PREAMBLE, dataStart))) as {
  tensors: { net: string; layer: string; param: string; shape: number[]; offset: number }[];
};

/** covered[i]: byte i of the file is under some check (preamble field, header CRC, tensor CRC). */
const covered = new Uint8Array(original.length);
covered.fill(1, 0, dataStart);
for (const e of header.tensors) {
  const start = dataStart + e.offset;
  covered.fill(1, start, start + e.shape.reduce((a, b) => a * b, 1) * 4);
}
const uncovered: number[] = [];
for (let i = 0; i < covered.length; i++) if (!covered[i]) uncovered.push(i);

const reference = parseWeights(original.slice());

function sameTensors(a: MtcnnWeights, b: MtcnnWeights): boolean {
  for (const net of ['pnet', 'rnet', 'onet'] as const) {
    const ka = Object.keys(a[net]).sort(),
      kb = Object.keys(b[net]).sort();
    if (ka.join() !== kb.join()) return false;
    for (const k of ka) {
      if (a[net][k].shape.join() !== b[net][k].shape.join()) return false;
      const x = a[net][k].data,
        y = b[net][k].data;
      if (x.length !== y.length) return false;
      const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
      if (Buffer.compare(bx, by) !== 0) return false;
    }
  }
  return true;
}

type Outcome = 'refused' | 'parsed';
const tally: Record<string, Record<Outcome, number>> = {};

/** Parses one mutant; `mayParse`: the mutation touched no covered byte, so an identical parse is allowed. */
function check(kind: string, mutant: Uint8Array, mayParse: boolean, what: string): void {
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    const w = parseWeights(mutant);
    outcome = 'parsed';
    assert.ok(mayParse, `${kind} ${what}: parsed, but it changed a checked byte`);
    assert.ok(sameTensors(w, reference), `${kind} ${what}: parsed to different tensors`);
  } catch (e) {
    if (!(e instanceof MtcnnError)) throw new Error(`${kind} ${what}: threw ${String(e)}, not an MtcnnError`);
    assert.is(e.code, 'BAD_WEIGHTS', `${kind} ${what}: ${e.message}`);
    assert.match(e.message, /^weights file[:,] /, `${kind} ${what}: ${e.message}`);
    outcome = 'refused';
  }
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS_PER_PARSE, `${kind} ${what}: took ${ms.toFixed(0)} ms`);
  tally[kind] ??= { refused: 0, parsed: 0 };
  tally[kind][outcome]++;
}

Fuzz('the layout read here: preamble, header and tensors cover the whole file', () => {
  assert.is(new TextDecoder().decode(original.subarray(0, 8)), 'MTCNNWTS');
  assert.is(view.getUint32(16, true), zlibCrc32(original.subarray(PREAMBLE, dataStart)));
  assert.is(header.tensors.length, 50);
  assert.is(uncovered.length, 0, 'no padding bytes: every flip must be refused');
  assert.ok(sameTensors(parseWeights(original.slice()), reference));
});

Fuzz('300 mutants (fixed seed): each refused with BAD_WEIGHTS, or parsed identical where no check applies', () => {
  const rand = rng(0x5eed);
  const int = (n: number) => Math.floor(rand() * n);
  const start = performance.now();

  // 150 single-byte flips: a third in the preamble + header, the rest anywhere
  for (let i = 0; i < 150; i++) {
    const at = i % 3 === 0 ? int(dataStart) : int(original.length);
    const mutant = original.slice();
    mutant[at] ^= 1 + int(255);
    check('flip', mutant, !covered[at], `byte ${at}`);
  }
  // 60 truncations: half inside the preamble + header, half in the data
  for (let i = 0; i < 60; i++) {
    const cut = i % 2 === 0 ? int(dataStart) : dataStart + int(original.length - dataStart);
    check('truncate', original.slice(0, cut), false, `to ${cut} bytes`);
  }
  // 80 header edits with the header CRC recomputed: these reach JSON.parse and the entry checks
  const printable = ' ",:[]{}0123456789-.eEabcdefnoprtuwxyz\\';
  for (let i = 0; i < 80; i++) {
    const mutant = original.slice();
    const edits = 1 + int(3);
    const at: number[] = [];
    for (let k = 0; k < edits; k++) {
      const p = PREAMBLE + int(headerLen);
      at.push(p);
      mutant[p] = k % 2 === 0 ? printable.charCodeAt(int(printable.length)) : int(256);
    }
    new DataView(mutant.buffer).setUint32(16, zlibCrc32(mutant.subarray(PREAMBLE, dataStart)), true);
    // the header is checked by content, not by CRC, once the CRC matches: a neutral edit may parse
    check('header', mutant, true, `bytes ${at.join(', ')}`);
  }
  // 10 files with bytes appended after the last tensor
  for (let i = 0; i < 10; i++) {
    const extra = 1 + int(64);
    const mutant = new Uint8Array(original.length + extra);
    mutant.set(original);
    for (let k = 0; k < extra; k++) mutant[original.length + k] = int(256);
    check('append', mutant, true, `${extra} bytes`);
  }

  const total = Object.values(tally).reduce((n, t) => n + t.refused + t.parsed, 0);
  assert.is(total, 300);
  assert.is(tally.flip.parsed + tally.truncate.parsed, 0, 'no flip or truncation parses');
  assert.ok(tally.header.refused >= 60, `header edits refused: ${JSON.stringify(tally.header)}`);
  assert.ok(performance.now() - start < 60_000, 'bounded');
  console.log(`  weights fuzz: ${JSON.stringify(tally)}`);
});

Fuzz.run();
