/**
 * The picture `plan` and `inspect` draw of a disk: its arithmetic, and what a real terminal shows
 * (tmux): colours on a terminal, none when piped or with NO_COLOR.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { diskBar, diskRegions, partitionMark, shareColumns, useColor } from '../ts/cli/disk-bar';
import { BIN, ROOT, imgforge } from './helpers/cli';
import { hasTool, tempDir } from './helpers/tools';

const MiB = 1 << 20;
const ESCAPE = /\u001b\[/;

test('columns are shared in proportion, every region gets at least one, and they add up', (t) => {
  t.deepEqual(shareColumns([50, 50], 10), [5, 5]);
  t.deepEqual(shareColumns([1, 1_000_000], 10), [1, 9], 'a tiny partition is still seen');
  t.deepEqual(shareColumns([0, 3, 1], 8), [0, 6, 2]);
  t.deepEqual(shareColumns([1, 1, 1], 2), [1, 1, 1], 'more regions than columns: one each');
  t.deepEqual(shareColumns([], 10), []);
  for (const sizes of [[7, 13, 29], [1, 2, 3, 4, 5, 6, 7, 8, 9], [100, 1, 1, 1]]) {
    t.is(shareColumns(sizes, 40).reduce((a, b) => a + b, 0), 40, String(sizes));
  }
});

test('partitions are marked 1-9 then a-z; free space of at least the alignment is a region', (t) => {
  t.deepEqual([1, 9, 10, 35, 36, 128].map(partitionMark), ['1', '9', 'a', 'z', '#', '#']);
  const regions = diskRegions(
    [
      { index: 2, offset: 20 * MiB, size: 10 * MiB },
      { index: 1, offset: 1 * MiB, size: 10 * MiB },
    ],
    17408,
    100 * MiB,
    MiB,
  );
  t.deepEqual(
    regions.map((r) => [r.index ?? 'free', r.start / MiB, r.size / MiB]),
    [
      [1, 1, 10],
      ['free', 11, 9],
      [2, 20, 10],
      ['free', 30, 70],
    ],
    'the gap before the first partition (under 1 MiB) is alignment, not free space',
  );
  const bar = diskBar(regions, 22, false);
  t.is(bar.length, 22);
  t.regex(bar, /^\|1+·+2+·+\|$/);
  t.notRegex(bar, ESCAPE);
  t.regex(diskBar(regions, 22, true), ESCAPE);
});

test('colour only on a terminal, and not with NO_COLOR or TERM=dumb', (t) => {
  t.true(useColor({ isTTY: true }, {}));
  t.false(useColor({ isTTY: false }, {}));
  t.false(useColor({}, {}));
  t.false(useColor({ isTTY: true }, { NO_COLOR: '1' }));
  t.true(useColor({ isTTY: true }, { NO_COLOR: '' }), 'an empty NO_COLOR is unset (no-color.org)');
  t.false(useColor({ isTTY: true }, { TERM: 'dumb' }));
});

test('plan piped draws the bar without escape codes, paths relative to the spec; inspect draws the same bar', (t) => {
  const spec = path.join(ROOT, 'examples', 'appliance', 'image.yaml');
  const plan = imgforge(['plan', spec]);
  t.is(plan.status, 0, plan.stderr);
  t.notRegex(plan.stdout, ESCAPE);
  const bar = plan.stdout.split('\n').find((line) => line.startsWith('|'));
  t.regex(bar ?? '', /^\|1+2+3+4+\|$/);
  t.regex(plan.stdout, /1 esp 33 MiB {3}2 system-a 8 MiB/);
  t.regex(plan.stdout, / read-only +rootfs\.ext4 \(3 MiB\)\n/, 'contents paths are relative to the spec');
  t.false(plan.stdout.includes(ROOT), 'no absolute paths');
  const dir = tempDir();
  const image = path.join(dir, 'appliance.img');
  t.is(imgforge(['build', spec, '-o', image, '--quiet']).status, 0);
  const inspected = imgforge(['inspect', image]);
  t.is(inspected.stdout.split('\n').find((line) => line.startsWith('|')), bar);
  t.notRegex(inspected.stdout, ESCAPE);
});

test.serial('in a real terminal (tmux) the bar is coloured, and NO_COLOR turns that off', (t) => {
  if (!hasTool('tmux')) return t.pass('skipped: tmux is not installed');
  const spec = path.join(ROOT, 'examples', 'appliance', 'image.yaml');
  const screen = (env: string): string => {
    const session = `imgforge-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const command = `${env} "${process.execPath}" "${BIN}" plan "${spec}"; sleep 30`;
    const started = spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', command], { encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`tmux: ${started.stderr}`);
    try {
      for (let i = 0; i < 100; i++) {
        const shown = spawnSync('tmux', ['capture-pane', '-p', '-e', '-t', session], { encoding: 'utf8' }).stdout;
        if (/#\s+name/.test(shown)) return shown;
        spawnSync('sleep', ['0.1']);
      }
      throw new Error('plan did not show in tmux');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  };
  const colored = screen('');
  t.regex(colored, /\u001b\[4\dm/, 'a background colour on the bar');
  t.regex(colored.replace(/\u001b\[[\d;]*m/g, ''), /\|1+2+3+4+\|/);
  t.notRegex(screen('NO_COLOR=1'), /\u001b\[4\dm/);
});
